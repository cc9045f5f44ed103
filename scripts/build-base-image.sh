#!/usr/bin/env bash
# Build a Debian systemd image the molecule scenarios run in.
#
# Usage: build-base-image.sh [SUITE]    SUITE: bookworm (Debian 12, the default) or trixie (Debian 13)
#
# The root file system comes from debootstrap (Debian archive only) and is imported
# with `docker import`. Both suites get the same recipe. The tag is a hash of this script and
# the suite, so a change of recipe gives new images and an unchanged recipe reuses the image
# already present.
# The image name is printed as the last line of standard output; progress goes to stderr.
#
# Environment:
#   SPARKLAB_DEBIAN_MIRROR    Debian mirror (default http://deb.debian.org/debian)
#   SPARKLAB_DEBIAN_SECURITY  security mirror (default http://deb.debian.org/debian-security)
#   SPARKLAB_IMAGE_REPO       image repository name (default sparklab/debian<release>-systemd)
set -euo pipefail

suite="${1:-bookworm}"
case "${suite}" in
    bookworm) release=12 ;;
    trixie) release=13 ;;
    *) printf '%s\n' "build-base-image: unknown suite '${suite}' (use bookworm or trixie)" >&2; exit 2 ;;
esac
mirror="${SPARKLAB_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
security="${SPARKLAB_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}"
repo="${SPARKLAB_IMAGE_REPO:-sparklab/debian${release}-systemd}"
# python3-apt: the apt modules need it, and Ubuntu cloud images ship it.
packages="systemd,systemd-sysv,dbus,python3,python3-apt,sudo,ca-certificates,apt-transport-https,gnupg,iproute2,procps"

recipe_hash="$( { cat "${BASH_SOURCE[0]}"; printf 'suite=%s\n' "${suite}"; } | sha256sum | cut -c1-12)"
image="${repo}:${recipe_hash}"

log() { printf '%s\n' "build-base-image: $*" >&2; }

if docker image inspect "${image}" >/dev/null 2>&1; then
    log "${image} already present"
    printf '%s\n' "${image}"
    exit 0
fi

for tool in debootstrap docker tar; do
    command -v "${tool}" >/dev/null || { log "missing ${tool} (apt-get install debootstrap docker.io)"; exit 1; }
done

rootfs="$(mktemp -d "${TMPDIR:-/tmp}/sparklab-rootfs.XXXXXX")"
cleanup() { rm -rf --one-file-system "${rootfs}"; }
trap cleanup EXIT

log "debootstrap ${suite} from ${mirror} into ${rootfs}"
debootstrap --variant=minbase --include="${packages}" "${suite}" "${rootfs}" "${mirror}" >&2

# Apt sources: the same archive plus updates and security, as on a normal install.
cat > "${rootfs}/etc/apt/sources.list" <<EOF
deb ${mirror} ${suite} main
deb ${mirror} ${suite}-updates main
deb ${security} ${suite}-security main
EOF

# Keep images small and apt quick: no documentation, no recommends.
cat > "${rootfs}/etc/dpkg/dpkg.cfg.d/01-sparklab-nodoc" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
EOF
cat > "${rootfs}/etc/apt/apt.conf.d/01-sparklab-norecommends" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
EOF

# Units that make no sense in a container (no consoles, no udev, no kernel tuning at boot).
for unit in getty.target console-getty.service systemd-udevd.service systemd-udev-trigger.service \
    systemd-modules-load.service sys-kernel-config.mount sys-kernel-debug.mount \
    sys-kernel-tracing.mount systemd-remount-fs.service systemd-firstboot.service; do
    ln -sf /dev/null "${rootfs}/etc/systemd/system/${unit}"
done

# The login user of Ubuntu's EC2 images: `ubuntu`, with sudo and no password (the rule cloud-init
# writes to /etc/sudoers.d/90-cloud-init-users). Ansible connects as this user, so a task that
# needs root works only with `become`, as on EC2.
chroot "${rootfs}" useradd --create-home --shell /bin/bash --user-group ubuntu
printf '%s\n' 'ubuntu ALL=(ALL) NOPASSWD:ALL' > "${rootfs}/etc/sudoers.d/90-cloud-init-users"
chmod 0440 "${rootfs}/etc/sudoers.d/90-cloud-init-users"

# A container gets its machine id, hostname and resolver from the engine.
: > "${rootfs}/etc/machine-id"
rm -f "${rootfs}/var/lib/dbus/machine-id"
rm -rf "${rootfs}"/var/lib/apt/lists/* "${rootfs}"/var/cache/apt/*.bin "${rootfs}"/var/cache/apt/archives/*.deb
# No package lists in the image: date the lists directory back so apt cache_valid_time refreshes them.
touch -d @0 "${rootfs}/var/lib/apt/lists"

log "importing ${image}"
tar --numeric-owner -C "${rootfs}" -c . | docker import \
    --change 'CMD ["/sbin/init"]' \
    --change 'ENV container=docker' \
    - "${image}" >&2

printf '%s\n' "${image}"
