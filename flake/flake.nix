{
  description = "rk64: NixOS for Rock64 (RK3328) LAN gateways with RAUC A/B updates";

  # Pinned in flake.lock (rev + narHash); every option the modules set is checked against this
  # revision's declarations in OPTIONS.md.
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";

  outputs =
    { self, nixpkgs }:
    let
      system = "aarch64-linux";
      pkgs = nixpkgs.legacyPackages.${system};
      lib = nixpkgs.lib;
      # The one source of truth for behaviour: every file the gateway runs comes from here.
      deviceScriptsSrc = ../device-scripts;

      rk64Packages = import ./packages {
        inherit pkgs lib deviceScriptsSrc;
        rock64 = self.nixosConfigurations.rock64;
      };

      mkSystem =
        host:
        lib.nixosSystem {
          # Sets nixpkgs.system; the hosts do not set nixpkgs.hostPlatform themselves, so the VM
          # checks can give their nodes the test framework's read-only pkgs.
          inherit system;
          specialArgs = {
            rk64Pkgs = rk64Packages;
          };
          modules = [
            ./modules
            host
          ];
        };
    in
    {
      nixosModules.default = ./modules;

      nixosConfigurations = {
        rock64 = mkSystem ./hosts/rock64.nix;
        rock64-qemu = mkSystem ./hosts/rock64-qemu.nix;
      };

      packages.${system} = {
        inherit (rk64Packages)
          device-scripts
          kernel
          kernel-config
          uboot
          boot-script
          boot-vfat
          squashfs
          image
          rauc-bundle
          ;
        # Runs the QEMU target: ./result/bin/run-rk64-qemu-vm
        vm = self.nixosConfigurations.rock64-qemu.config.system.build.vm;
        default = rk64Packages.image;
      };

      checks.${system} = import ./checks {
        inherit pkgs lib;
        rk64Pkgs = rk64Packages;
      };

      formatter.${system} = pkgs.nixfmt-rfc-style;

      devShells.${system}.default = pkgs.mkShell {
        packages = with pkgs; [
          rauc
          squashfsTools
          mtools
          dosfstools
          gptfdisk
          ubootTools
          libubootenv
          openssl
          qemu
          shellcheck
          mise
          nixfmt-rfc-style
        ];
      };
    };
}
