# rauc-hawkbit-updater (hawkBit DDI client for RAUC), which nixpkgs 25.05 does not package. Built
# from the upstream release tarball; the hash is Buildroot's
# (package/rauc-hawkbit-updater/rauc-hawkbit-updater.hash, "Locally calculated" sha256 of
# rauc-hawkbit-updater-1.3.tar.xz).
{
  lib,
  stdenv,
  fetchurl,
  meson,
  ninja,
  pkg-config,
  glib,
  json-glib,
  curl,
  systemd,
}:
stdenv.mkDerivation rec {
  pname = "rauc-hawkbit-updater";
  version = "1.3";
  src = fetchurl {
    url = "https://github.com/rauc/rauc-hawkbit-updater/releases/download/v${version}/rauc-hawkbit-updater-${version}.tar.xz";
    sha256 = "42318e96a464e6c716edb45c48bd3ec3b874462973db902fbe099a395e4acb4b";
  };
  # glib here too: gdbus-codegen generates the RAUC D-Bus client at build time.
  nativeBuildInputs = [
    meson
    ninja
    pkg-config
    glib
  ];
  buildInputs = [
    glib
    json-glib
    curl
    systemd
  ];
  # sd_notify/journal support. meson.build (1.3) installs upstream's unit into
  # systemdsystemunitdir, here the package itself; rk64 runs its own (device-scripts/systemd).
  mesonFlags = [
    "-Dsystemd=enabled"
    "-Dsystemdsystemunitdir=${placeholder "out"}/lib/systemd/system"
  ];
  meta = {
    description = "hawkBit DDI client for RAUC";
    homepage = "https://github.com/rauc/rauc-hawkbit-updater";
    license = lib.licenses.lgpl21Only;
    platforms = lib.platforms.linux;
    mainProgram = "rauc-hawkbit-updater";
  };
}
