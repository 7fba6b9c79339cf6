# Image metadata used by the package derivations (flake/packages).
{ lib, ... }:
{
  options.rk64.image = {
    version = lib.mkOption {
      type = lib.types.str;
      default = "0.1.0";
      description = "Version written into the RAUC bundle manifest.";
    };
    maxRootfsBytes = lib.mkOption {
      type = lib.types.int;
      default = 1073741824;
      description = "Size gate for the squashfs root image (make-squashfs fails above it).";
    };
  };
}
