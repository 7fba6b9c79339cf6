# Image metadata used by the package derivations (flake/packages).
{ lib, ... }:
{
  options.rk64.image = {
    version = lib.mkOption {
      type = lib.types.str;
      default = "0.1.0";
      description = "Version written into the RAUC bundle manifest.";
    };
    rootfsLimit = lib.mkOption {
      type = lib.types.strMatching "[0-9]+[KMG]?";
      default = "1G";
      description = "Size gate for the squashfs root image (make-squashfs --limit fails above it).";
    };
  };
}
