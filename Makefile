# Quick start: `make demo` (set-up + a closed-loop run of the full perception stack with metrics and a
# video) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export SDL_VIDEODRIVER := offscreen

.PHONY: install demo test test-all mutation evaluate bench clean

install: $(STAMP)

$(STAMP): pyproject.toml scripts/install-system-deps.sh scripts/install_deps.py
	bash scripts/install-system-deps.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python scripts/install_deps.py
	@echo "compiling the tracker's kernels (numba, about 10 s; cached beside fusion/kernels.py)"
	$(BIN)/drivestack bench-tracker --vehicles 10 --ticks 20 --repeats 1 > /dev/null
	touch $(STAMP)

demo: install
	$(BIN)/drivestack simulate --scenario highway --planner rule --world-model perception \
		--episodes 2 --seed 0 --video out/demo.mp4 --json out/demo.json

test: install
	$(BIN)/python -m pytest -q -n 2 --dist worksteal --durations=15

mutation: install  # mutation testing of the core modules (not part of test: hours on 2 cores)
	$(BIN)/python -m pip install --quiet "mutmut>=3.3"
	$(BIN)/python scripts/mutation.py

test-all: install
	$(BIN)/python -m pytest -q -m "slow or not slow"

evaluate: install
	$(BIN)/drivestack evaluate --suite default --json out/evaluate.json

bench: install
	$(BIN)/drivestack bench --scenario highway --repeats 5 --json out/bench.json

clean:
	rm -rf $(VENV) out *.egg-info
