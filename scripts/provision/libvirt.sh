#!/usr/bin/env bash
# Two real libvirt hosts on this machine for the libvirt suites (see the libvirt reference):
# host 1 is the system libvirtd (Unix socket), host 2 a second libvirtd in its own mount and
# UTS namespace on qemu+tcp://127.0.0.1:16510/system with its own images directory.
#   start: installs the Debian packages when root and missing; prints `export VK_LIBVIRT_*`
#   stop:  destroys test domains, stops both daemons
# Logs go to stderr. Without root and without libvirt it prints nothing (the suites skip).
set -uo pipefail
NODE2=/tmp/virtkeeper-node2
log() { echo "libvirt: $*" >&2; }

install() {
  command -v libvirtd >/dev/null && command -v qemu-system-x86_64 >/dev/null && command -v qemu-img >/dev/null && [[ -x /usr/sbin/sshd ]] && command -v nc >/dev/null && return 0
  [[ $(id -u) -eq 0 ]] || { log "not root and libvirt is not installed; libvirt suites will skip"; return 1; }
  log "installing libvirt and QEMU from Debian packages"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 qemu-utils genisoimage openssh-server netcat-openbsd; } >&2 || return 1
}

configure() {
  getent passwd libvirt-qemu >/dev/null || useradd -r libvirt-qemu 2>/dev/null
  groupadd -f kvm; groupadd -f libvirt-qemu
  local conf=/etc/libvirt/qemu.conf
  grep -q '^security_driver = "none"' "$conf" 2>/dev/null || cat >> "$conf" <<'CONF'
user = "root"
group = "root"
dynamic_ownership = 0
security_driver = "none"
CONF
  mkdir -p /var/log/libvirt /var/run/libvirt /var/lib/libvirt/images
}

up() { virsh -c "$1" version >/dev/null 2>&1; }

start_host1() {
  # Host 1's virtlogd is known by its socket here: host 2 runs a virtlogd of its own in its namespace.
  [[ -S /run/libvirt/virtlogd-sock ]] || virtlogd -d
  if up qemu:///system; then return 0; fi
  libvirtd -d
  for _ in $(seq 1 60); do up qemu:///system && return 0; sleep 0.5; done
  log "host 1 did not come up"; return 1
}

# A CA, a server certificate for localhost/127.0.0.1 and a client certificate, as libvirt's
# TLS transport wants them; the client's files sit in one directory (the URI's pkipath).
make_pki() { # dir
  local d=$1 ext
  mkdir -p "$d/server" "$d/client" "$d/other"
  ext=$(mktemp)
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=virtkeeper test CA" -keyout "$d/cakey.pem" -out "$d/cacert.pem" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null || return 1
  for role in server client; do
    openssl req -newkey rsa:2048 -nodes -subj "/CN=${role}.virtkeeper.test" -keyout "$d/$role/${role}key.pem" -out "$d/$role.csr" 2>/dev/null || return 1
    if [[ $role == server ]]; then
      printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n' > "$ext"
    else
      printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n' > "$ext"
    fi
    openssl x509 -req -in "$d/$role.csr" -CA "$d/cacert.pem" -CAkey "$d/cakey.pem" -CAcreateserial -days 2 -extfile "$ext" -out "$d/$role/${role}cert.pem" 2>/dev/null || return 1
  done
  cp "$d/cacert.pem" "$d/client/cacert.pem"
  # A CA the server does not trust, for the refusal test.
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=someone else" -keyout "$d/other/clientkey.pem" -out "$d/other/clientcert.pem" 2>/dev/null
  cp "$d/cacert.pem" "$d/other/cacert.pem"
  rm -f "$ext" "$d"/*.csr
}

start_host2() {
  local uri=qemu+tcp://127.0.0.1:16510/system
  if up "$uri"; then return 0; fi
  mkdir -p "$NODE2"/{lib,etc,log,cache,images}
  cp -r /etc/libvirt/* "$NODE2/etc/" 2>/dev/null; rm -f "$NODE2"/etc/qemu/*.xml
  local tls=0
  make_pki "$NODE2/pki" && tls=1 || log "no openssl: host 2 listens without TLS"
  cat > "$NODE2/etc/libvirtd.conf" <<CONF
listen_tls = $tls
tls_port = "16511"
key_file = "$NODE2/pki/server/serverkey.pem"
cert_file = "$NODE2/pki/server/servercert.pem"
ca_file = "$NODE2/pki/cacert.pem"
auth_tls = "none"
listen_tcp = 1
tcp_port = "16510"
listen_addr = "127.0.0.1"
auth_tcp = "none"
host_uuid = "11111111-2222-3333-4444-555555555555"
CONF
  grep -q '^cgroup_controllers' "$NODE2/etc/qemu.conf" || echo 'cgroup_controllers = [ ]' >> "$NODE2/etc/qemu.conf"
  cat > "$NODE2/start.sh" <<SCRIPT
mount -t tmpfs tmpfs /run; mkdir -p /run/libvirt
mount --bind $NODE2/lib /var/lib/libvirt/qemu
mount --bind $NODE2/images /var/lib/libvirt/images
mount --bind $NODE2/etc /etc/libvirt
mount --bind $NODE2/log /var/log/libvirt
hostname node2; virtlogd -d; exec libvirtd --listen -f /etc/libvirt/libvirtd.conf
SCRIPT
  cat > "$NODE2/restart.sh" <<SCRIPT
# Restarts host 2's daemon (tests of reconnection); its running domains survive, as on a real host.
pkill -f "libvirtd --listen -f /etc/libvirt/libvirtd.conf"
for _ in \$(seq 1 40); do pgrep -f "libvirtd --listen -f /etc/libvirt/libvirtd.conf" >/dev/null || break; sleep 0.25; done
setsid unshare --mount --uts --propagation private bash $NODE2/start.sh >> $NODE2/daemon.log 2>&1 < /dev/null &
for _ in \$(seq 1 80); do virsh -c qemu+tcp://127.0.0.1:16510/system version >/dev/null 2>&1 && exit 0; sleep 0.25; done
exit 1
SCRIPT
  setsid unshare --mount --uts --propagation private bash "$NODE2/start.sh" > "$NODE2/daemon.log" 2>&1 &
  echo $! > "$NODE2/pid"
  for _ in $(seq 1 60); do up "$uri" && return 0; sleep 0.5; done
  log "host 2 did not come up; see $NODE2/daemon.log"; return 1
}

# An sshd on 127.0.0.1:2222 that lets a generated key in as root, for the qemu+ssh transport
# (it reaches host 1's socket through `nc -U`, as on a real host).
start_sshd() { # dir
  local d=$1
  [[ -x /usr/sbin/sshd ]] || { log "no sshd: the ssh transport test will skip"; return 1; }
  mkdir -p "$d" /run/sshd
  [[ -f $d/host_key ]] || ssh-keygen -q -t ed25519 -N '' -f "$d/host_key" || return 1
  [[ -f $d/client_key ]] || ssh-keygen -q -t ed25519 -N '' -f "$d/client_key" || return 1
  cp "$d/client_key.pub" "$d/authorized_keys"; chmod 600 "$d/authorized_keys"
  echo "[127.0.0.1]:2222 $(cut -d' ' -f1,2 "$d/host_key.pub")" > "$d/known_hosts"
  cat > "$d/sshd_config" <<CONF
Port 2222
ListenAddress 127.0.0.1
HostKey $d/host_key
PidFile $d/sshd.pid
AuthorizedKeysFile $d/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
CONF
  [[ -f $d/sshd.pid ]] && kill "$(cat "$d/sshd.pid")" 2>/dev/null
  /usr/sbin/sshd -f "$d/sshd_config" -E "$d/sshd.log" || return 1
  for _ in $(seq 1 20); do
    ssh -T -o BatchMode=yes -o UserKnownHostsFile="$d/known_hosts" -i "$d/client_key" -p 2222 root@127.0.0.1 true 2>/dev/null && return 0
    sleep 0.25
  done
  log "sshd did not let the test key in; see $d/sshd.log"; return 1
}

pool() { # uri dir
  virsh -c "$1" pool-info default >/dev/null 2>&1 || { virsh -c "$1" pool-define-as default dir --target "$2" >/dev/null && virsh -c "$1" pool-autostart default >/dev/null; }
  virsh -c "$1" pool-start default >/dev/null 2>&1 || true
}

start() {
  install || exit 0
  configure
  start_host1 || exit 0
  start_host2 || exit 0
  pool qemu:///system /var/lib/libvirt/images
  pool qemu+tcp://127.0.0.1:16510/system /var/lib/libvirt/images
  local type=qemu
  [[ -r /dev/kvm && -w /dev/kvm ]] && type=kvm
  log "two hosts up (domain type $type)"
  echo "export VK_LIBVIRT_URI_1=qemu:///system"
  echo "export VK_LIBVIRT_URI_2=qemu+tcp://127.0.0.1:16510/system"
  echo "export VK_LIBVIRT_DOMAIN_TYPE=$type"
  echo "export VK_LIBVIRT_RESTART_2=$NODE2/restart.sh"
  # A tiny bootable guest with the QEMU guest agent, for exec and agent-reported addresses.
  local build gimg
  build="$(dirname "${BASH_SOURCE[0]}")/../guest-image/build.sh"
  gimg=$(bash "$build" "$HOME/.cache/virtkeeper/guest") || { [[ $(id -u) -eq 0 ]] && apt-get update -qq >&2 && gimg=$(bash "$build" "$HOME/.cache/virtkeeper/guest"); } || gimg=""
  if [[ -n $gimg ]]; then echo "export VK_GUEST_IMAGE=$gimg"; else log "no guest image: the guest suite will skip"; fi
  if start_sshd "$NODE2/ssh"; then
    echo "export VK_LIBVIRT_URI_SSH='qemu+ssh://root@127.0.0.1:2222/system?keyfile=$NODE2/ssh/client_key&known_hosts=$NODE2/ssh/known_hosts'"
  fi
  if up "qemu+tls://localhost:16511/system?pkipath=$NODE2/pki/client"; then
    echo "export VK_LIBVIRT_URI_2_TLS=qemu+tls://localhost:16511/system?pkipath=$NODE2/pki/client"
    echo "export VK_LIBVIRT_PKI_OTHER=$NODE2/pki/other"
  fi
}

stop() {
  for uri in qemu:///system qemu+tcp://127.0.0.1:16510/system; do
    up "$uri" || continue
    for d in $(virsh -c "$uri" list --all --name 2>/dev/null | grep -E '^vk-' ); do
      virsh -c "$uri" destroy "$d" >/dev/null 2>&1; virsh -c "$uri" undefine "$d" --remove-all-storage >/dev/null 2>&1
    done
  done
  [[ -f $NODE2/ssh/sshd.pid ]] && kill "$(cat "$NODE2/ssh/sshd.pid")" 2>/dev/null
  [[ -f $NODE2/pid ]] && pkill -f "libvirtd --listen -f /etc/libvirt/libvirtd.conf" 2>/dev/null
  pkill -x libvirtd 2>/dev/null; pkill -x virtlogd 2>/dev/null
  for _ in $(seq 1 40); do pgrep -x libvirtd >/dev/null || pgrep -x virtlogd >/dev/null || break; sleep 0.25; done
  rm -f /run/libvirt/virtlogd-sock
  rm -rf "$NODE2"
}

case "${1:-start}" in start) start ;; stop) stop ;; *) echo "usage: $0 start|stop" >&2; exit 64 ;; esac
