#!/usr/bin/env bash
# Onboard one agency of the benchmark's example shape with the `openstack` CLI, one command per
# step, the way a competent sysadmin writes it (no idempotence checks). Used by
# bench/onboard_bench.py as tool (a); runnable alone against any cloud of clouds.yaml:
#
#   OS_CLOUD=dcctl-bench bench/onboard/openstack_cli.sh CODE 10.100.7.0/24 [PASSWORD_FILE]
#
# Creates: project CODE in domain $DOMAIN, users CODE.user0..2 (initial passwords appended to
# PASSWORD_FILE, mode 0600), roles member/member/reader, compute/volume/network quotas (the
# site's "small" template), network CODE-app + subnet, router CODE-router with a gateway on
# $EXTERNAL and an interface on the subnet, security groups web (3 rules) and db (2 rules).
set -euo pipefail

CODE=$1
CIDR=$2
PASSWORDS=${3:-./initial-passwords-$CODE.txt}
DOMAIN=${DOMAIN:-quangngai}
EXTERNAL=${EXTERNAL:-public}
GATEWAY="${CIDR%.*/*}.1"
os() { openstack "$@"; }

umask 077
PROJECT=$(os project create --domain "$DOMAIN" -f value -c id \
  --description "Cơ quan thử nghiệm $CODE ($CODE)" "$CODE")

for n in 0 1 2; do
  password=$(openssl rand -base64 18)
  os user create --domain "$DOMAIN" --project "$PROJECT" --password "$password" \
    --email "user$n@$CODE.example.vn" --description "Người dùng $n" "$CODE.user$n" >/dev/null
  printf '%s.user%s %s\n' "$CODE" "$n" "$password" >>"$PASSWORDS"
done

os role add --project "$PROJECT" --user "$CODE.user0" --user-domain "$DOMAIN" member
os role add --project "$PROJECT" --user "$CODE.user1" --user-domain "$DOMAIN" member
os role add --project "$PROJECT" --user "$CODE.user2" --user-domain "$DOMAIN" reader

os quota set \
  --instances 4 --cores 4 --ram 8192 --key-pairs 10 --server-groups 2 --server-group-members 4 \
  --volumes 4 --gigabytes 40 --snapshots 4 --backups 8 --backup-gigabytes 80 \
  --networks 2 --subnets 2 --ports 16 --routers 1 --floating-ips 0 --secgroups 6 \
  --secgroup-rules 40 "$PROJECT"

os network create --project "$PROJECT" "$CODE-app" >/dev/null
SUBNET=$(os subnet create --project "$PROJECT" --network "$CODE-app" -f value -c id \
  --subnet-range "$CIDR" --gateway "$GATEWAY" \
  --dns-nameserver 203.162.4.191 --dns-nameserver 203.162.4.190 "$CODE-app")
os router create --project "$PROJECT" --external-gateway "$EXTERNAL" "$CODE-router" >/dev/null
os router add subnet "$CODE-router" "$SUBNET"

WEB=$(os security group create --project "$PROJECT" --description "web tier" -f value -c id web)
DB=$(os security group create --project "$PROJECT" --description "database tier" -f value -c id db)
os security group rule create --project "$PROJECT" --protocol tcp --dst-port 443 \
  --remote-ip 0.0.0.0/0 "$WEB" >/dev/null
os security group rule create --project "$PROJECT" --protocol tcp --dst-port 80 \
  --remote-ip 10.0.0.0/8 "$WEB" >/dev/null
os security group rule create --project "$PROJECT" --protocol tcp --dst-port 22 \
  --remote-ip 10.0.0.0/24 "$WEB" >/dev/null
os security group rule create --project "$PROJECT" --protocol tcp --dst-port 5432 \
  --remote-group "$WEB" "$DB" >/dev/null
os security group rule create --project "$PROJECT" --protocol tcp --dst-port 22 \
  --remote-ip 10.0.0.0/24 "$DB" >/dev/null
echo "onboarded $CODE (project $PROJECT)"
