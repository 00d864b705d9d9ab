import pytest

from streamproc.bench.capacity import sizing


def test_one_process_serves_a_rate_within_its_headroom() -> None:
    plan = sizing(100, mask_per_process=1000, restore_per_process=2000, vault_new_per_s=10_000, new_mappings_per_turn=1)
    assert plan["worker_processes"] == 1 and plan["partitions_at_least"] == 1 and plan["vault_ok"]


def test_processes_grow_with_the_cost_of_both_flows() -> None:
    # 1/1000 + 1/2000 = 1.5 ms per turn; 1,000 turns/s at 70% busy -> ceil(1.5 / 0.7) = 3
    plan = sizing(1000, mask_per_process=1000, restore_per_process=2000, vault_new_per_s=10_000, new_mappings_per_turn=2)
    assert plan["worker_processes"] == 3 and plan["partitions_at_least"] == 3
    assert plan["vault_write_load"] == 0.2 and plan["vault_ok"]


def test_the_vault_and_the_gpus_are_sized_too() -> None:
    plan = sizing(5000, mask_per_process=1000, restore_per_process=2000, vault_new_per_s=10_000,
                  new_mappings_per_turn=2, model_turns_per_gpu=400)
    assert not plan["vault_ok"] and plan["gpus"] == 18


def test_rates_must_be_positive() -> None:
    with pytest.raises(ValueError):
        sizing(100, mask_per_process=0, restore_per_process=1, vault_new_per_s=1, new_mappings_per_turn=1)
