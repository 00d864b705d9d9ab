# Sourced by infra/kafka.sh for `--secure`: the same broker with a SASL_SSL client listener,
# KRaft's StandardAuthorizer and least-privilege ACLs (infra/kafka-acls.sh).
#
# Everything a client needs is generated once into $STATE and kept across restarts:
#   tls/ca.pem                  the local CA clients must trust (ssl_cafile)
#   tls/broker.p12              the broker's key and certificate (SAN localhost, 127.0.0.1)
#   tls/worker-client.{pem,key} a client certificate for mTLS (key encrypted, see secrets/)
#   secrets/<user>.password     SCRAM-SHA-512 passwords of admin, worker, edge, cloud (0600)
#   <user>.env                  STREAMPROC_KAFKA__* settings for that principal (the password
#                               by file: STREAMPROC_KAFKA__SASL_PASSWORD_FILE)
#   admin.properties            client properties for the Java CLI tools (super user)
#   clients.json                all of the above for tests; its path is the last line of `start`
# The controller listener stays on loopback with SASL_PLAINTEXT/PLAIN for the admin user only,
# so nobody reaches the controller as an anonymous super user.

SECURE_USERS=(admin worker edge cloud)
SCRAM=SCRAM-SHA-512

secret() { cat "$STATE/secrets/$1.password"; }

# Passwords and certificates: generated once, never printed.
secure_material() {
  local tls="$STATE/tls" sec="$STATE/secrets" u
  mkdir -p "$tls" "$sec"; chmod 700 "$sec"
  for u in "${SECURE_USERS[@]}" keystore worker-client-key; do
    [[ -s $sec/$u.password ]] || (umask 077; openssl rand -hex 24 > "$sec/$u.password")
  done
  [[ -s $tls/broker.p12 && -s $tls/worker-client.pem ]] && return 0
  log "generating a local CA, the broker certificate and a client certificate in $tls"
  (
    umask 077; cd "$tls"
    openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=streamproc local CA" \
      -keyout ca.key -out ca.pem -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout broker.key -out broker.csr 2>/dev/null
    printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' "${BROKER_SAN:-DNS:localhost,IP:127.0.0.1}" > broker.ext
    openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 825 \
      -extfile broker.ext -out broker.pem 2>/dev/null
    openssl pkcs12 -export -in broker.pem -inkey broker.key -certfile ca.pem -name broker \
      -passout "file:$sec/keystore.password" -out broker.p12
    openssl req -newkey rsa:2048 -subj "/CN=worker" -passout "file:$sec/worker-client-key.password" \
      -keyout worker-client.key -out worker-client.csr 2>/dev/null
    printf 'extendedKeyUsage=clientAuth\n' > client.ext
    openssl x509 -req -in worker-client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 825 \
      -extfile client.ext -out worker-client.pem 2>/dev/null
    rm -f ./*.csr ./*.ext
    chmod 644 ca.pem
  ) || die "openssl could not generate the certificates"
}

secure_server_properties() {
  local jaas_admin
  jaas_admin="username=\"admin\" password=\"$(secret admin)\""
  cat <<EOF
listeners=SASL_SSL://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=SASL_SSL://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=SASL_SSL
listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,SASL_SSL:SASL_SSL
# Clients: SCRAM over TLS. Credentials live in the metadata log (kafka-storage format --add-scram).
listener.name.sasl_ssl.sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=$SCRAM
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required $jaas_admin;
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required $jaas_admin;
# Controller: PLAIN for the admin user only (SCRAM credentials are not readable before the quorum is up).
listener.name.controller.sasl.enabled.mechanisms=PLAIN
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required $jaas_admin user_admin="$(secret admin)";
ssl.keystore.type=PKCS12
ssl.keystore.location=$STATE/tls/broker.p12
ssl.keystore.password=$(secret keystore)
ssl.truststore.type=PEM
ssl.truststore.location=$STATE/tls/ca.pem
# A client certificate is checked when presented (mTLS); SASL still names the principal.
ssl.client.auth=requested
ssl.endpoint.identification.algorithm=https
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin
allow.everyone.if.no.acl.found=false
EOF
}

secure_format_args() {
  local u
  for u in "${SECURE_USERS[@]}"; do
    printf -- '--add-scram\n%s=[name=%s,password=%s]\n' "$SCRAM" "$u" "$(secret "$u")"
  done
}

secure_client_files() {
  local u
  (
    umask 077
    cat > "$STATE/admin.properties" <<EOF
security.protocol=SASL_SSL
sasl.mechanism=$SCRAM
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$(secret admin)";
ssl.truststore.type=PEM
ssl.truststore.location=$STATE/tls/ca.pem
EOF
    for u in "${SECURE_USERS[@]}"; do
      cat > "$STATE/$u.env" <<EOF
STREAMPROC_KAFKA__BOOTSTRAP_SERVERS=$BOOTSTRAP
STREAMPROC_KAFKA__SECURITY_PROTOCOL=SASL_SSL
STREAMPROC_KAFKA__SASL_MECHANISM=$SCRAM
STREAMPROC_KAFKA__SASL_USERNAME=$u
STREAMPROC_KAFKA__SASL_PASSWORD_FILE=$STATE/secrets/$u.password
STREAMPROC_KAFKA__SSL_CAFILE=$STATE/tls/ca.pem
EOF
    done
  )
  local users="" sep=""
  for u in "${SECURE_USERS[@]}"; do
    users+="$sep\"$u\": {\"username\": \"$u\", \"password_file\": \"$STATE/secrets/$u.password\", \"env_file\": \"$STATE/$u.env\"}"
    sep=", "
  done
  cat > "$STATE/clients.json" <<EOF
{
  "bootstrap_servers": "$BOOTSTRAP",
  "security_protocol": "SASL_SSL",
  "sasl_mechanism": "$SCRAM",
  "ssl_cafile": "$STATE/tls/ca.pem",
  "admin_properties": "$STATE/admin.properties",
  "users": {$users},
  "test_prefixes": {"raw_topic": "${TEST_PREFIX}raw-", "masked_topic": "${TEST_PREFIX}masked-",
                    "response_topic": "${TEST_PREFIX}response-", "restored_topic": "${TEST_PREFIX}restored-",
                    "dead_letter_topic": "${TEST_PREFIX}dead-", "identity_topic": "${TEST_PREFIX}identity-",
                    "group_id": "${TEST_PREFIX}worker-",
                    "transactional_id_prefix": "${TEST_PREFIX}txn-"},
  "client_certificate": {"certfile": "$STATE/tls/worker-client.pem", "keyfile": "$STATE/tls/worker-client.key",
                         "key_password_file": "$STATE/secrets/worker-client-key.password"}
}
EOF
}

# The default topics (created by admin, with their retention) and the ACLs for the default
# names; then the same roles on names starting with `it-`, so that integration tests get fresh
# topics per test without a dozen JVM starts each (clients.json: test_prefixes). Once per state
# dir, and again whenever infra/kafka-acls.sh changes.
TEST_PREFIX=it-
secure_apply_acls() {
  local sum; sum=$(cat "$HERE/kafka-acls.sh" "$HERE/kafka/secure.sh" | sha256sum | cut -d' ' -f1)
  [[ $(cat "$STATE/acls.applied" 2>/dev/null) == "$sum" ]] && return 0
  log "creating the default topics and applying ACLs (infra/kafka-acls.sh)"
  local p=$TEST_PREFIX
  local conn=(--bootstrap-server "$BOOTSTRAP" --command-config "$STATE/admin.properties")
  export KAFKA_ACLS="$HERE/kafka.sh --secure tool org.apache.kafka.tools.AclCommand"
  export KAFKA_TOPICS="$HERE/kafka.sh --secure tool org.apache.kafka.tools.TopicCommand"
  "$HERE/kafka-acls.sh" "${conn[@]}" --create-topics >&2 || die "infra/kafka-acls.sh failed"
  "$HERE/kafka-acls.sh" "${conn[@]}" --topic-pattern prefixed \
    --raw-topic "${p}raw-" --masked-topic "${p}masked-" --response-topic "${p}response-" \
    --restored-topic "${p}restored-" --dead-letter-topic "${p}dead-" --identity-topic "${p}identity-" \
    --worker-group "${p}worker-" --worker-txn "${p}txn-" --edge-group "${p}edge-" --cloud-group "${p}cloud-" \
    --state-prefix "${p}worker-" >&2 \
    || die "infra/kafka-acls.sh (test prefixes) failed"
  echo "$sum" > "$STATE/acls.applied"
}
