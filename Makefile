# The two commands a newcomer needs; each sets itself up (scripts/bootstrap creates .venv).
NODE ?= fixtures/omninode_bridge/src/omninode_bridge/nodes/database_adapter_effect

.PHONY: demo test setup bench

setup:
	@scripts/bootstrap

demo: setup
	@.venv/bin/omnimix migrate $(NODE)

test: setup
	.venv/bin/python -m pytest -q
	cd fixtures/omninode_bridge && ../../.venv/bin/python -m pytest -q
	cd fixtures/omninode_bridge_b && ../../.venv/bin/python -m pytest -q

bench: setup
	.venv/bin/python benchmarks/run.py
