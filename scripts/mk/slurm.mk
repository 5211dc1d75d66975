# scripts/mk/slurm.mk — `make slurm`, `make slurm-gather`, `make slurm-resubmit`
# (docs/cluster.md).  Included by the Makefile; uses $(CONFIG), $(OUT),
# $(PYTHON) and install_missing from there.  The repository and OUT
# must be on storage shared by the submit host and the nodes.
#
#   make slurm CONFIG=x86 NODES=node[01-04] [PARTITION=p] [TIME_LIMIT=2:00:00]
#   make slurm CONFIG=x86 NODES=4 PARTITION=p      # 4 tasks, Slurm picks the nodes
#   make slurm-gather [JOB=<array job id>]         # default: the newest
#   make slurm-resubmit JOB=<array job id> [NODES=<new node per failed task>]

NODES ?=
PARTITION ?=
JOB ?=
# 1: each task has its node to itself (sbatch --exclusive).  0: shared
# nodes, e.g. several tasks on one test node: give TASK_CPUS=<the node's
# CPUs> so they run one after another instead of side by side.
EXCLUSIVE ?= 1
TASK_CPUS ?=
TIME_LIMIT ?=
# More sbatch options, e.g. SUBMIT_ARGS='--account=perf --qos=short'
SUBMIT_ARGS ?=

SLURM_SUBMIT_OPTS = --config $(CONFIG) --out '$(OUT)' \
	$(if $(PARTITION),--partition '$(PARTITION)') \
	$(if $(filter 0 no false,$(EXCLUSIVE)),--no-exclusive,--exclusive) \
	$(if $(TASK_CPUS),--cpus $(TASK_CPUS)) \
	$(if $(TIME_LIMIT),--time '$(TIME_LIMIT)') \
	$(foreach a,$(SUBMIT_ARGS),--sbatch-arg='$(a)') \
	$(if $(ARGS),--args '$(ARGS)')

.PHONY: slurm slurm-gather slurm-resubmit
slurm:
	@test -n "$(NODES)" || { echo "pmubench: error: give the nodes: make slurm CONFIG=$(CONFIG) NODES=node1,node2 (or node[01-04], or a count) [PARTITION=p]" >&2; exit 1; }
	@$(PYTHON) scripts/cluster/slurm-submit $(SLURM_SUBMIT_OPTS) --nodes '$(NODES)' >/dev/null

slurm-gather:
	$(call install_missing,python3-matplotlib python3-pandas python3-scipy python3-numpy)
	@$(PYTHON) scripts/cluster/slurm-gather $(or $(JOB),latest) --out '$(OUT)'

slurm-resubmit:
	@test -n "$(JOB)" || { echo "pmubench: error: give the array job id: make slurm-resubmit JOB=<id> (printed by make slurm and make slurm-gather)" >&2; exit 1; }
	@$(PYTHON) scripts/cluster/slurm-submit --resubmit '$(JOB)' --out '$(OUT)' $(if $(NODES),--nodes '$(NODES)') >/dev/null
