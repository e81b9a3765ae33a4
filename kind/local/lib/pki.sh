# shellcheck shell=bash
# Certificates and keys of the local control plane, made with openssl. Sourced by up.sh.
#
# One CA signs everything: the apiserver's serving cert, a client cert per component,
# and serving certs for webhooks reached at https://127.0.0.1:PORT. Files are made
# once and kept in $KL_PKI until `down.sh --purge`.

# pki_run: openssl quietly; on failure show what it said.
pki_run() {
  local out
  if ! out=$(openssl "$@" 2>&1); then
    printf '%s\n' "$out" >&2
    kl_die "openssl $1 failed"
  fi
}

pki_key() { # file
  [[ -f $1 ]] || pki_run genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1"
  chmod 600 "$1"
}

pki_ca() { # [NAME [CN]]
  local ca=${1:-ca} cn=${2:-cubit-local-ca}
  [[ -f $KL_PKI/$ca.crt && -f $KL_PKI/$ca.key ]] && return 0
  # A new main CA invalidates every certificate it signed: start the directory afresh.
  if [[ $ca == ca ]]; then rm -rf "$KL_PKI"; fi
  mkdir -p "$KL_PKI"
  pki_key "$KL_PKI/$ca.key"
  local ext=$KL_PKI/.$ca.ext
  printf '%s\n' 'basicConstraints=critical,CA:TRUE' \
    'keyUsage=critical,keyCertSign,cRLSign,digitalSignature' \
    'subjectKeyIdentifier=hash' >"$ext"
  pki_run req -new -key "$KL_PKI/$ca.key" -subj "/CN=$cn" -out "$KL_PKI/$ca.csr"
  pki_run x509 -req -in "$KL_PKI/$ca.csr" -signkey "$KL_PKI/$ca.key" -days 3650 \
    -set_serial "0x$(openssl rand -hex 16)" -extfile "$ext" -out "$KL_PKI/$ca.crt"
  rm -f "$KL_PKI/$ca.csr" "$ext"
}

# pki_cert NAME SUBJECT USAGE [SAN [CA]]: NAME.crt/NAME.key signed by CA (default ca).
# USAGE is clientAuth, serverAuth or both ("serverAuth,clientAuth").
pki_cert() {
  local name=$1 subj=$2 usage=$3 san=${4:-} ca=${5:-ca}
  [[ -f $KL_PKI/$name.crt && -f $KL_PKI/$name.key ]] && return 0
  pki_key "$KL_PKI/$name.key"
  local ext=$KL_PKI/.$name.ext
  printf '%s\n' 'basicConstraints=critical,CA:FALSE' \
    'keyUsage=critical,digitalSignature,keyEncipherment' \
    "extendedKeyUsage=$usage" 'authorityKeyIdentifier=keyid' >"$ext"
  [[ -n $san ]] && printf 'subjectAltName=%s\n' "$san" >>"$ext"
  pki_run req -new -key "$KL_PKI/$name.key" -subj "$subj" -out "$KL_PKI/$name.csr"
  pki_run x509 -req -in "$KL_PKI/$name.csr" -CA "$KL_PKI/$ca.crt" -CAkey "$KL_PKI/$ca.key" \
    -days 3650 -set_serial "0x$(openssl rand -hex 16)" -extfile "$ext" -out "$KL_PKI/$name.crt"
  rm -f "$KL_PKI/$name.csr" "$ext"
}

# pki_service_ip CIDR: the first address of the service range (the `kubernetes` Service).
pki_service_ip() {
  local net=${1%/*} a b c d
  IFS=. read -r a b c d <<<"$net"
  printf '%s.%s.%s.%s' "$a" "$b" "$c" $((d + 1))
}

pki_ensure() {
  pki_ca
  # The aggregation layer's own CA: the apiserver proves itself to extension
  # apiservers with front-proxy-client, and nothing else may pass as the proxy.
  pki_ca front-proxy-ca cubit-local-front-proxy-ca
  pki_cert front-proxy-client "/CN=front-proxy-client" clientAuth "" front-proxy-ca
  local sans
  sans="IP:127.0.0.1,DNS:localhost,IP:$(pki_service_ip "$SERVICE_CIDR"),DNS:kubernetes"
  sans+=",DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  pki_cert apiserver "/CN=kube-apiserver" serverAuth "$sans"
  pki_cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
  pki_cert admin "/O=system:masters/CN=cubit-local-admin" clientAuth
  pki_cert controller-manager "/CN=system:kube-controller-manager" clientAuth
  pki_cert scheduler "/CN=system:kube-scheduler" clientAuth
  # kwok plays every kubelet and the training operator stands in for a Deployment
  # with its own ClusterRole; both are test machinery, so both get cluster-admin.
  pki_cert kwok "/O=system:masters/CN=kwok-controller" clientAuth
  pki_cert training-operator "/O=system:masters/CN=training-operator" clientAuth
  # Serving certificates for webhooks on 127.0.0.1 (the training operator's, and one
  # Cubit's own manager may use); their caBundle is ca.crt.
  pki_cert training-operator-webhook "/CN=training-operator-webhook" serverAuth "IP:127.0.0.1,DNS:localhost"
  pki_cert webhook "/CN=cubit-webhook" serverAuth "IP:127.0.0.1,DNS:localhost"
  pki_key "$KL_PKI/sa.key"
  [[ -f $KL_PKI/sa.pub ]] || pki_run pkey -in "$KL_PKI/sa.key" -pubout -out "$KL_PKI/sa.pub"
}

# pki_kubeconfig FILE USER CERT_NAME [embed]: a kubeconfig for the local apiserver.
# With "embed" the certificates are inlined so the file works when copied elsewhere.
pki_kubeconfig() {
  local file=$1 user=$2 cert=$3 embed=${4:-}
  local server="https://$KL_HOST:$APISERVER_PORT" ca_line crt_line key_line
  if [[ $embed == embed ]]; then
    ca_line="certificate-authority-data: $(base64 -w0 <"$KL_PKI/ca.crt")"
    crt_line="client-certificate-data: $(base64 -w0 <"$KL_PKI/$cert.crt")"
    key_line="client-key-data: $(base64 -w0 <"$KL_PKI/$cert.key")"
  else
    ca_line="certificate-authority: $KL_PKI/ca.crt"
    crt_line="client-certificate: $KL_PKI/$cert.crt"
    key_line="client-key: $KL_PKI/$cert.key"
  fi
  local mask
  mask=$(umask)
  umask 077
  cat >"$file.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: cubit-local
  cluster:
    server: $server
    $ca_line
users:
- name: $user
  user:
    $crt_line
    $key_line
contexts:
- name: cubit-local
  context:
    cluster: cubit-local
    user: $user
    namespace: default
current-context: cubit-local
preferences: {}
EOF
  mv -f "$file.tmp" "$file"
  umask "$mask"
}
