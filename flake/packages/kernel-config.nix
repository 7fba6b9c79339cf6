# The complete .config for the Rock64 kernel: allnoconfig + flake/kernel/rk3328.config +
# olddefconfig, produced by flake/kernel/make-config -- the same script the repository's test
# runs against Debian's linux-source-6.1. It fails the build when Kconfig drops a requested
# symbol. Base source: nixpkgs' linux_6_1 (same 6.1 LTS series as the tested tree).
{
  stdenv,
  linux_6_1,
  flex,
  bison,
  bc,
  perl,
}:
stdenv.mkDerivation {
  pname = "rk64-kernel-config";
  inherit (linux_6_1) version src;
  nativeBuildInputs = [
    flex
    bison
    bc
    perl
  ];
  depsBuildBuild = [ stdenv.cc ];
  dontConfigure = true;
  buildPhase = ''
    patchShebangs scripts
    CROSS_COMPILE="" bash ${../kernel/make-config} "$PWD" ${../kernel/rk3328.config} "$PWD/build"
  '';
  installPhase = ''
    cp build/.config $out
  '';
}
