#!/usr/bin/env bash
# A real kube-apiserver + etcd for the Kubernetes suites, built from Go modules
# (test/kube/go.mod) into a cache outside git, started on loopback with certificates.
#   start: prints `export VK_KUBECONFIG=… VK_KUBECONFIG_CONTROLLER=… VK_KUBE_RUN_DIR=…`
#   stop:  stops both and removes the run directory
# Logs go to stderr. If Go is missing or the build fails it prints nothing and exits 0,
# and the Kubernetes suites skip.
set -euo pipefail
VERSION=v1.34.4
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/virtkeeper/kube/$VERSION"
RUN="${VK_KUBE_RUN_DIR:-/tmp/virtkeeper-kube}"
log() { echo "kube: $*" >&2; }

build() {
  if [[ -x "$CACHE/kube-apiserver" && -x "$CACHE/etcd" ]]; then return 0; fi
  command -v go >/dev/null || { log "go not found"; return 1; }
  mkdir -p "$CACHE"
  log "building kube-apiserver $VERSION and etcd into $CACHE (a few minutes the first time)"
  local ld="-s -w -X k8s.io/component-base/version.gitVersion=$VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=34 -X k8s.io/component-base/version.gitTreeState=clean"
  ( cd "$ROOT/test/kube" && export GOFLAGS=-mod=mod CGO_ENABLED=0 &&
    go build -trimpath -tags selinux,notest -ldflags "$ld" -o "$CACHE/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver &&
    go build -trimpath -ldflags "-s -w" -o "$CACHE/etcd.tmp" go.etcd.io/etcd/server/v3 ) >&2 || return 1
  mv "$CACHE/kube-apiserver.tmp" "$CACHE/kube-apiserver"; mv "$CACHE/etcd.tmp" "$CACHE/etcd"
}

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

cert() { # name subject [ext]
  openssl req -new -newkey rsa:2048 -nodes -keyout "$RUN/$1.key" -subj "$2" -out "$RUN/$1.csr" 2>/dev/null
  if [[ -n "${3:-}" ]]; then printf '%s\n' "$3" > "$RUN/$1.ext"; openssl x509 -req -in "$RUN/$1.csr" -CA "$RUN/ca.crt" -CAkey "$RUN/ca.key" -CAcreateserial -days 2 -extfile "$RUN/$1.ext" -out "$RUN/$1.crt" 2>/dev/null
  else openssl x509 -req -in "$RUN/$1.csr" -CA "$RUN/ca.crt" -CAkey "$RUN/ca.key" -CAcreateserial -days 2 -out "$RUN/$1.crt" 2>/dev/null; fi
}

kubeconfig() { # file user
  local f="$RUN/$1"
  kubectl config --kubeconfig "$f" set-cluster vk --server "https://127.0.0.1:$APIPORT" --certificate-authority "$RUN/ca.crt" --embed-certs >/dev/null
  kubectl config --kubeconfig "$f" set-credentials "$2" --client-certificate "$RUN/$2.crt" --client-key "$RUN/$2.key" --embed-certs >/dev/null
  kubectl config --kubeconfig "$f" set-context vk --cluster vk --user "$2" >/dev/null
  kubectl config --kubeconfig "$f" use-context vk >/dev/null
}

start() {
  build || { log "cannot build the test bed; Kubernetes suites will skip"; exit 0; }
  if [[ -f "$RUN/apiserver.pid" ]] && kill -0 "$(cat "$RUN/apiserver.pid")" 2>/dev/null; then
    log "already running in $RUN"
  else
    rm -rf "$RUN"; mkdir -p "$RUN/etcd"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$RUN/ca.key" -subj "/CN=virtkeeper-test-ca" -days 2 -out "$RUN/ca.crt" 2>/dev/null
    cert apiserver "/CN=kube-apiserver" "subjectAltName=IP:127.0.0.1,DNS:localhost,IP:10.0.0.1"
    cert admin "/O=system:masters/CN=admin"
    # Bound only by manifests/rbac.yaml: proves the controller's RBAC is enough.
    cert controller "/CN=system:serviceaccount:virtkeeper-system:virtkeeper-controller"
    openssl genrsa -out "$RUN/sa.key" 2048 2>/dev/null; openssl rsa -in "$RUN/sa.key" -pubout -out "$RUN/sa.pub" 2>/dev/null
    ETCD=$(free_port); PEER=$(free_port); APIPORT=$(free_port)
    echo "$APIPORT" > "$RUN/port"
    "$CACHE/etcd" --data-dir "$RUN/etcd" --listen-client-urls "http://127.0.0.1:$ETCD" --advertise-client-urls "http://127.0.0.1:$ETCD" \
      --listen-peer-urls "http://127.0.0.1:$PEER" --initial-advertise-peer-urls "http://127.0.0.1:$PEER" --initial-cluster "default=http://127.0.0.1:$PEER" \
      --unsafe-no-fsync --log-level error > "$RUN/etcd.log" 2>&1 &
    echo $! > "$RUN/etcd.pid"
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$ETCD/health" >/dev/null && break; sleep 0.1; done
    "$CACHE/kube-apiserver" --etcd-servers "http://127.0.0.1:$ETCD" --secure-port "$APIPORT" --bind-address 127.0.0.1 \
      --tls-cert-file "$RUN/apiserver.crt" --tls-private-key-file "$RUN/apiserver.key" --client-ca-file "$RUN/ca.crt" \
      --authorization-mode RBAC --service-cluster-ip-range 10.0.0.0/24 --allow-privileged=true --disable-admission-plugins ServiceAccount \
      --service-account-issuer "https://127.0.0.1:$APIPORT/" --service-account-key-file "$RUN/sa.pub" --service-account-signing-key-file "$RUN/sa.key" \
      > "$RUN/apiserver.log" 2>&1 &
    echo $! > "$RUN/apiserver.pid"
    kubeconfig admin.kubeconfig admin
    kubeconfig controller.kubeconfig controller
    for _ in $(seq 1 300); do
      kubectl --kubeconfig "$RUN/admin.kubeconfig" get namespace default >/dev/null 2>&1 && break; sleep 0.2
    done
    kubectl --kubeconfig "$RUN/admin.kubeconfig" get namespace default >/dev/null 2>&1 || { log "apiserver did not come up; see $RUN/apiserver.log"; tail -20 "$RUN/apiserver.log" >&2; exit 0; }
    log "kube-apiserver $VERSION up on https://127.0.0.1:$APIPORT"
  fi
  echo "export VK_KUBECONFIG=$RUN/admin.kubeconfig"
  echo "export VK_KUBECONFIG_CONTROLLER=$RUN/controller.kubeconfig"
  echo "export VK_KUBE_RUN_DIR=$RUN"
}

stop() {
  for p in apiserver etcd; do
    [[ -f "$RUN/$p.pid" ]] && kill "$(cat "$RUN/$p.pid")" 2>/dev/null || true
  done
  sleep 0.5; rm -rf "$RUN"
}

case "${1:-start}" in start) start ;; stop) stop ;; *) echo "usage: $0 start|stop" >&2; exit 64 ;; esac
