#!/usr/bin/env bash
# An example NALAR_PROVISIONER_COMMAND for Kubernetes (docs/control-plane/capacity.md, "The command hook"):
# one Deployment + Service per model replica, running vLLM's OpenAI server. Not run by Nalar's tests; adapt
# the image, resources, namespace and port to your cluster. Needs kubectl (with access to the namespace) and jq.
#
#   provisioner-kubectl.sh list | provision <agent> <model> | when-serving <id> | kill <id> | reassign <id> <model> <agent>
#
# Exit 3: no such replica; exit 4: the replica is already changing; other non-zero: failure (stderr says why).
set -euo pipefail

NS="${NALAR_K8S_NAMESPACE:-nalar}"
IMAGE="${NALAR_K8S_VLLM_IMAGE:-vllm/vllm-openai:latest}"
PORT=8000
WAIT="${NALAR_K8S_WAIT:-15m}"
SELECTOR='app.kubernetes.io/managed-by=nalar-provisioner'

k() { kubectl --namespace "$NS" "$@"; }

# jq: the protocol's replica JSON of one Deployment.
REPLICA='def replica: {
    id: .metadata.name,
    model: .metadata.annotations["nalar.io/model"],
    baseUrl: "http://\(.metadata.name).\($ns).svc:\($port)/v1",
    state: (if .metadata.deletionTimestamp != null or (.spec.replicas // 1) == 0 then "draining"
            elif (.status.updatedReplicas // 0) >= 1 and (.status.readyReplicas // 0) >= 1
                 and (.status.replicas // 0) == 1 then "serving"
            else "loading" end)
  };'

# The replica JSON of the Deployment on stdin.
replica_json() { jq -c --arg ns "$NS" --argjson port "$PORT" "$REPLICA replica"; }

# The Deployment's JSON, or exit 3 when it does not exist.
get_or_exit() {
  if ! k get deployment "$1" -l "$SELECTOR" -o json 2>/dev/null; then
    echo "no replica $1 in namespace $NS" >&2
    exit 3
  fi
}

verb="${1:-}"
case "$verb" in
  list)
    k get deployments -l "$SELECTOR" -o json |
      jq -c --arg ns "$NS" --argjson port "$PORT" "$REPLICA {replicas: [.items[] | replica]}"
    ;;

  provision)
    agent="$2" model="$3"
    # A DNS-1123 name: the agent's name made safe, and a random suffix.
    name="$(tr -c 'a-z0-9-' '-' <<<"${agent,,}" | cut -c1-40 | sed 's/-*$//')-$(head -c4 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    # Built with jq --arg: the model and agent names are data, never YAML or shell.
    jq -n --arg name "$name" --arg agent "$agent" --arg model "$model" --arg image "$IMAGE" --argjson port "$PORT" '
      {apiVersion: "v1", kind: "List", items: [
        {apiVersion: "apps/v1", kind: "Deployment",
         metadata: {name: $name, labels: {"app.kubernetes.io/managed-by": "nalar-provisioner", "nalar.io/replica": $name},
                    annotations: {"nalar.io/model": $model, "nalar.io/agent": $agent}},
         spec: {replicas: 1, strategy: {type: "Recreate"},
                selector: {matchLabels: {"nalar.io/replica": $name}},
                template: {metadata: {labels: {"nalar.io/replica": $name}},
                  spec: {terminationGracePeriodSeconds: 600,
                    containers: [{name: "vllm", image: $image, args: ["--model", $model, "--port", ($port|tostring)],
                      ports: [{containerPort: $port}],
                      readinessProbe: {httpGet: {path: "/health", port: $port}, periodSeconds: 2},
                      resources: {limits: {"nvidia.com/gpu": 1}}}]}}}},
        {apiVersion: "v1", kind: "Service",
         metadata: {name: $name, labels: {"app.kubernetes.io/managed-by": "nalar-provisioner"}},
         spec: {selector: {"nalar.io/replica": $name}, ports: [{port: $port, targetPort: $port}]}}]}' |
      k apply -f - >&2
    get_or_exit "$name" | replica_json
    ;;

  when-serving)
    id="$2"
    get_or_exit "$id" >/dev/null
    k rollout status "deployment/$id" --timeout="$WAIT" >&2
    get_or_exit "$id" | replica_json
    ;;

  kill)
    id="$2"
    get_or_exit "$id" >/dev/null
    # Scale to 0 first: the pod gets SIGTERM and its grace period to finish the requests it holds (Nalar took
    # the replica out of routing before asking), then the objects go.
    k scale "deployment/$id" --replicas=0 >&2
    k wait --for=delete pod -l "nalar.io/replica=$id" --timeout="$WAIT" >&2 || true
    k delete deployment,service "$id" --wait=true >&2
    ;;

  reassign)
    # The target agent comes last; an older Nalar did not pass it (then the agent annotation stays).
    id="$2" model="$3" agent="${4:-}"
    state="$(get_or_exit "$id" | replica_json | jq -r .state)"
    if [ "$state" != serving ]; then
      echo "replica $id is $state, not serving" >&2
      exit 4
    fi
    # Recreate strategy: the old pod drains and stops before the new model loads (one GPU). The new pod must run
    # the target agent's engine arguments; here every agent gets the same as in provision, so per-agent ones
    # (--max-num-seqs, --max-model-len, …) chosen by $agent go in both verbs.
    patch="$(jq -nc --arg model "$model" --arg agent "$agent" --argjson port "$PORT" '
      {metadata: {annotations: ({"nalar.io/model": $model} + (if $agent == "" then {} else {"nalar.io/agent": $agent} end))},
       spec: {template: {spec: {containers: [{name: "vllm", args: ["--model", $model, "--port", ($port|tostring)]}]}}}}')"
    k patch "deployment/$id" --type=strategic -p "$patch" >&2
    k rollout status "deployment/$id" --timeout="$WAIT" >&2
    get_or_exit "$id" | replica_json
    ;;

  *)
    echo "usage: $0 list | provision <agent> <model> | when-serving <id> | kill <id> | reassign <id> <model> <agent>" >&2
    exit 64
    ;;
esac
