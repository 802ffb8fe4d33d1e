#!/usr/bin/env bash
# A single-node Kafka with a SASL_SSL listener (SCRAM-SHA-512 over TLS), for the security checks of
# test/reliability/security.mjs. It reuses the jars test/kafka/kafka.sh fetched (.cache/kafka/libs)
# and the same `java -cp 'DIR/*' kafka.Kafka` start, with its own server.properties, certificates made
# here with openssl (a CA, a server certificate for 127.0.0.1) and a SCRAM user added at format time.
#
#   bash test/reliability/secure-kafka.sh start   # prints SECURE_BROKERS=127.0.0.1:PORT and CA=FILE
#   bash test/reliability/secure-kafka.sh stop    # stops it and deletes its directory
#
# Env: SECURE_KAFKA_PORT (19192; PORT+1 is the controller, PORT+2 a PLAINTEXT inter-broker listener),
#      SECURE_KAFKA_USER (chunkline), SECURE_KAFKA_PASSWORD (random, written to DIR/password).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LIBS="$ROOT/.cache/kafka/libs"
PORT="${SECURE_KAFKA_PORT:-19192}"
DIR="$ROOT/.cache/kafka/secure-$PORT"
PIDFILE="$DIR/kafka.pid"
LOG="$DIR/kafka.log"
USER_NAME="${SECURE_KAFKA_USER:-chunkline}"
JAVA="${JAVA:-java}"
LOG4J="-Dlog4j2.configurationFile=$ROOT/test/kafka/log4j2.properties"

die() { echo "secure-kafka.sh: $*" >&2; exit 1; }

cmd_stop() {
  if [[ -f "$PIDFILE" ]]; then
    local pid
    pid="$(cat "$PIDFILE")"
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" || true
      for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" || true
    fi
  fi
  rm -rf "$DIR"
}

cmd_start() {
  [[ -f "$LIBS/.complete" ]] || bash "$ROOT/test/kafka/kafka.sh" libs >/dev/null
  cmd_stop
  mkdir -p "$DIR/data"
  local pass
  pass="${SECURE_KAFKA_PASSWORD:-$(openssl rand -hex 16)}"
  printf '%s' "$pass" >"$DIR/password"
  local storepass
  storepass="$(openssl rand -hex 16)"
  (
    cd "$DIR"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=chunkline-test-ca" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=127.0.0.1" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >san.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile san.ext 2>/dev/null
    openssl pkcs12 -export -in server.pem -inkey server.key -certfile ca.pem -out server.p12 -passout "pass:$storepass"
    rm -f ca.key server.csr server.key
  )
  cat >"$DIR/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$((PORT + 1))
listeners=SASL_SSL://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$((PORT + 1)),INTERNAL://127.0.0.1:$((PORT + 2))
advertised.listeners=SASL_SSL://127.0.0.1:$PORT,INTERNAL://127.0.0.1:$((PORT + 2))
inter.broker.listener.name=INTERNAL
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,INTERNAL:PLAINTEXT,SASL_SSL:SASL_SSL
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PKCS12
ssl.keystore.location=$DIR/server.p12
ssl.keystore.password=$storepass
ssl.key.password=$storepass
log.dirs=$DIR/data
num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
EOF
  "$JAVA" -XX:TieredStopAtLevel=1 -Xmx256m "$LOG4J" -cp "$LIBS/*" kafka.tools.StorageTool format \
    --config "$DIR/server.properties" --cluster-id Y2h1bmtsaW5lLXNlY3VyZTE --standalone \
    --add-scram "SCRAM-SHA-512=[name=$USER_NAME,password=$pass]" >"$LOG" 2>&1 || { tail -n 30 "$LOG" >&2; die "format failed"; }
  setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' secure-kafka "$PIDFILE" \
    "$JAVA" -Xms256m -Xmx512m -XX:+UseG1GC "$LOG4J" -cp "$LIBS/*" kafka.Kafka "$DIR/server.properties" \
    </dev/null >>"$LOG" 2>&1 &
  for _ in $(seq 1 360); do
    if [[ -s "$PIDFILE" ]] && ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
      tail -n 40 "$LOG" >&2
      die "the broker exited during start-up"
    fi
    if grep -qF "Kafka Server started" "$LOG"; then
      echo "SECURE_BROKERS=127.0.0.1:$PORT"
      echo "CA=$DIR/ca.pem"
      echo "PASSWORD_FILE=$DIR/password"
      return 0
    fi
    sleep 0.25
  done
  tail -n 40 "$LOG" >&2
  cmd_stop
  die "not ready after 90 s"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  *) echo "usage: bash test/reliability/secure-kafka.sh start|stop" >&2; exit 2 ;;
esac
