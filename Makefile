# Two commands do all the set-up: `make demo` and `make test` (both create/refresh .venv).
# CPU machines: torch $(TORCH_VERSION) CPU build. CUDA machines: see README ("On a CUDA machine").
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH_VERSION := 2.13.0
TORCH_PIP_ARGS ?=
EXTRAS ?= dev
STAMP := $(VENV)/.installed-$(EXTRAS)
export OMP_NUM_THREADS ?= 2
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install demo demo-models test test-slow test-fullscale lint benchmark clean

install: $(STAMP)

$(STAMP): setup.cfg setup.py constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade "pip>=24" setuptools wheel
	# torch first and pinned, so that nothing below can pull a CUDA build on a CPU machine.
	$(PY) -m pip install -q "torch==$(TORCH_VERSION)" $(TORCH_PIP_ARGS)
	$(PY) -m pip install -q -c constraints.txt -e ".[$(EXTRAS)]"
	touch $(STAMP)

demo: install
	$(PY) scripts/demo.py

# Retrains the bundled family from nothing (about 1.3 h on 2 idle cores; MODEL_CARD.md has the stages).
demo-models: install
	$(PY) scripts/train_demo_models.py --out models/wonderland-demo
	$(PY) scripts/finetune_demo_models.py --family models/wonderland-demo --out models/wonderland-demo
	$(PY) scripts/finetune_demo_models.py --family models/wonderland-demo --out models/wonderland-demo \
		--decoder-steps 0 --lalrm-frames 49 --lalrm-full-res --lalrm-steps 100 --lalrm-lr 2e-4
	$(PY) scripts/finetune_demo_models.py --family models/wonderland-demo --out models/wonderland-demo \
		--decoder-steps 0 --lalrm-frames 49 --lalrm-full-res --lalrm-steps 300 --lalrm-lr 2e-4 --lalrm-color-tv 0.1
	# VIST3A alignment of the camera model to the LaLRM (configs/align/size/demo.yaml), attached as a component
	$(PY) -m wonderland.align size=demo model.family=models/wonderland-demo trainer.resume=auto
	$(PY) -c "from wonderland.align import attach_alignment; attach_alignment('models/wonderland-demo', 'outputs/align_demo/model')"
	# VideoRFSplat pose stream (--trajectory auto), the video model frozen
	$(PY) scripts/train_demo_pose_stream.py --family models/wonderland-demo

test: install
	$(PY) -m ruff check .
	$(PY) -m pytest -m "not slow and not fullscale" -q

test-slow: install
	$(PY) -m pytest -m "slow and not fullscale" -q

# Full-size shapes, memory and gradients on the CPU: about an hour and a half on 2 idle cores, ~8 GiB of RAM.
test-fullscale: install
	$(PY) -m pytest -m fullscale -q -s

lint: install
	$(PY) -m ruff check .

benchmark: install
	$(PY) scripts/benchmark.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
