# license.sh - mint kaireon licences with the openssl CLI (the demo and the
# benchmarks license their tenants this way; docs/licensing.md explains it).
#
#   kr_demo_key DIR                  writes DIR/demo-key.pem and DIR/demo-key.pub.pem (RSA 2048)
#   kr_mint_license KEY KID SUB TIER DAYS [JTI]
#                                    prints an RS256 licence for tenant SUB, valid for DAYS days

kr_b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }

kr_demo_key() {
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1/demo-key.pem" 2>/dev/null
    openssl pkey -in "$1/demo-key.pem" -pubout -out "$1/demo-key.pub.pem"
}

kr_mint_license() {
    local key=$1 kid=$2 sub=$3 tier=$4 days=$5 jti=${6:-$3-$(date +%s)}
    local now header payload signature
    now=$(date +%s)
    header=$(printf '{"alg":"RS256","typ":"JWT","kid":"%s"}' "$kid" | kr_b64url)
    payload=$(printf '{"sub":"%s","tier":"%s","iat":%d,"nbf":%d,"exp":%d,"jti":"%s"}' \
        "$sub" "$tier" "$now" "$now" $((now + days * 86400)) "$jti" | kr_b64url)
    signature=$(printf '%s.%s' "$header" "$payload" | openssl dgst -sha256 -sign "$key" -binary | kr_b64url)
    printf '%s.%s.%s\n' "$header" "$payload" "$signature"
}
