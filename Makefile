.PHONY: demo deadlock test lint build bench bench-chart cdk-package

# Where cargo puts what it builds: target/, or CARGO_TARGET_DIR, or a cargo
# config's build.target-dir. Asked of cargo when a recipe needs it.
TARGET_DIR = $(shell cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')

# The whole story on a local AWS (moto), no account: installs the pinned Python
# tools into ./.venv, builds the provider, runs scripts/demo.py.
demo:
	bash scripts/setup.sh
	cargo build --locked --bin cross-region-param
	.venv/bin/python scripts/demo.py --binary "$(TARGET_DIR)/debug/cross-region-param"

# Everything CI runs: installs pinned tools, starts moto, runs all tests and template checks.
test:
	bash scripts/test.sh

lint:
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings
	cargo clippy --no-default-features --lib --bins -- -D warnings

# The Lambda package (arm64 bootstrap, zipped) without Docker.
build:
	bash scripts/build.sh

# Writes its chart under the target directory (the work tree stays clean).
bench:
	bash scripts/bench.sh

# make bench, then the chart written over the committed docs/benchmarks.svg.
bench-chart:
	BENCH_CHART=docs/benchmarks.svg bash scripts/bench.sh

# The CDK library's npm package (target/cdk-package/*.tgz) with make build's
# arm64 bootstrap inside, then installed and synthesized in an empty directory.
cdk-package:
	bash scripts/cdk-package.sh

# CDK's own cross-region export handlers (aws-cdk-lib 2.255.0 and 2.276.0) locking
# the story's deploy, and the migration of docs/migrating.md played on moto.
deadlock:
	bash scripts/setup.sh
	cargo build --locked --bin cross-region-param
	.venv/bin/python scripts/deadlock.py
