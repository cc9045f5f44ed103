#!/bin/sh
# Test setup only: build a flat apt repository with stand-ins for the pkgs.k8s.io packages.
# Usage: build_k8s_repo.sh REPO_DIR CRICTL_STAND_IN PACKAGE=VERSION...
# Each PACKAGE (kubelet, kubeadm, kubectl, cri-tools or kubernetes-cni) is built at VERSION with dpkg-deb,
# then the directory is indexed with apt-ftparchive (Packages and Release).
set -eu

repo=$1
crictl=$2
shift 2
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
mkdir -p "$repo"

for pair in "$@"; do
    package=${pair%%=*}
    version=${pair#*=}
    root="$build/${package}_${version}"
    mkdir -p "$root/DEBIAN" "$root/usr/bin"
    depends=""
    case "$package" in
        kubeadm) depends="cri-tools (>= 1.30.0)" ;;
        kubelet) depends="kubernetes-cni (>= 1.2.0)" ;;
        cri-tools) depends="python3, python3-grpcio" ;;
    esac
    {
        echo "Package: $package"
        echo "Version: $version"
        echo "Architecture: all"
        echo "Maintainer: sparklab tests <tests@sparklab.invalid>"
        [ -n "$depends" ] && echo "Depends: $depends"
        echo "Description: Test stand-in for the pkgs.k8s.io $package package"
    } > "$root/DEBIAN/control"
    if [ "$package" = cri-tools ]; then
        install -m 0755 "$crictl" "$root/usr/bin/crictl"
    elif [ "$package" = kubernetes-cni ]; then
        mkdir -p "$root/opt/cni/bin"
        printf 'kubernetes-cni test stand-in v%s: no CNI plugins\n' "${version%%-*}" > "$root/opt/cni/bin/README.sparklab"
    else
        printf '#!/bin/sh\necho "%s test stand-in v%s"\n' "$package" "${version%%-*}" > "$root/usr/bin/$package"
        chmod 0755 "$root/usr/bin/$package"
    fi
    if [ "$package" = kubelet ]; then
        mkdir -p "$root/usr/lib/systemd/system"
        printf '[Unit]\nDescription=kubelet test stand-in\n[Service]\nExecStart=/usr/bin/kubelet\n[Install]\nWantedBy=multi-user.target\n' \
            > "$root/usr/lib/systemd/system/kubelet.service"
    fi
    dpkg-deb --root-owner-group --build "$root" "$repo/${package}_${version}_all.deb" > /dev/null
done

cd "$repo"
apt-ftparchive packages . > Packages
apt-ftparchive release . > Release
