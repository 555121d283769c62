"""Settling by person gives the same tables whatever the partitions and wherever it runs."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from tests.batch.kit import demo_rules, generate_claims
from yibao.batch.run import merge, settle_batch, split
from yibao.engine.columnar import claims_to_tables, settle_tables
from yibao.inputs import ClaimIn, claim_from_model


@pytest.fixture(scope="module")
def tables() -> tuple[pa.Table, pa.Table]:
    claims = [claim_from_model(ClaimIn.model_validate(c)) for c in generate_claims(60, 900, 7)]
    return claims_to_tables(claims)


@pytest.fixture(scope="module")
def whole(tables: tuple[pa.Table, pa.Table]) -> tuple[pa.Table, pa.Table]:
    catalog, policies = demo_rules()
    return settle_tables(*tables, catalog=catalog, policies=policies)


def test_split_keeps_each_person_in_one_partition_in_order(
    tables: tuple[pa.Table, pa.Table],
) -> None:
    claims, lines = tables
    parts = split(claims, lines, 7)
    assert sum(p.claims.num_rows for p in parts) == claims.num_rows
    assert sum(p.lines.num_rows for p in parts) == lines.num_rows
    owner: dict[str, int] = {}
    for index, part in enumerate(parts):
        assert list(part.rows) == sorted(part.rows)  # original relative order
        assert part.claims.column("claim_id").to_pylist() == [
            claims.column("claim_id")[int(r)].as_py() for r in part.rows
        ]
        for person in part.claims.column("person_id").to_pylist():
            assert owner.setdefault(person, index) == index
        # a partition's lines point at its own rows and carry the same codes as before
        local = part.lines.column("claim_row").to_numpy()
        assert local.max() < part.claims.num_rows
        original = part.rows[local]
        mask = np.isin(lines.column("claim_row").to_numpy(), part.rows)
        assert original.tolist() == lines.column("claim_row").to_numpy()[mask].tolist()
        assert (
            part.lines.column("code").to_pylist()
            == lines.filter(pa.array(mask)).column("code").to_pylist()
        )
    assert len(parts) == 7  # 60 persons spread over every partition


def test_merge_of_split_partitions_settled_gives_back_the_whole(
    tables: tuple[pa.Table, pa.Table], whole: tuple[pa.Table, pa.Table]
) -> None:
    catalog, policies = demo_rules()
    parts = split(*tables, 4)
    settled = [
        (p, settle_tables(p.claims, p.lines, catalog=catalog, policies=policies)) for p in parts
    ]
    results, result_lines = merge(settled)
    assert results.equals(whole[0])
    assert result_lines.equals(whole[1])


@pytest.mark.parametrize("partitions", [1, 3, 16])
def test_in_process_any_partitions_equals_the_whole_table(
    tables: tuple[pa.Table, pa.Table], whole: tuple[pa.Table, pa.Table], partitions: int
) -> None:
    catalog, policies = demo_rules()
    seen: list[tuple[int, int]] = []
    results, result_lines, summary = settle_batch(
        *tables,
        catalog=catalog,
        policies=policies,
        partitions=partitions,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert results.equals(whole[0])
    assert result_lines.equals(whole[1])
    assert seen[-1] == (900, 900)
    assert summary.claims == 900 and summary.partitions == partitions
    assert summary.settled + summary.rejected == 900
    assert 0 < summary.rejected < 900  # the kit's students have no policy
    assert summary.total_fen == summary.fund_pay_fen + summary.personal_burden_fen


def test_two_process_local_cluster_equals_the_whole_table(
    tables: tuple[pa.Table, pa.Table], whole: tuple[pa.Table, pa.Table]
) -> None:
    from distributed import Client, LocalCluster

    catalog, policies = demo_rules()
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        results, result_lines, summary = settle_batch(
            *tables, catalog=catalog, policies=policies, partitions=5, client=client
        )
        assert summary.workers == 2
        # the work ran in the worker processes, not here
        assert len(client.run(lambda: 1)) == 2
    assert results.equals(whole[0])
    assert result_lines.equals(whole[1])


def test_runs_one_after_another_on_one_client_each_find_their_rules(
    tables: tuple[pa.Table, pa.Table], whole: tuple[pa.Table, pa.Table]
) -> None:
    """A simulation settles the baseline and then the reform on the same client, with the
    same catalog: the second run's catalog must not be lost to the first run's release."""
    from distributed import Client, LocalCluster

    catalog, policies = demo_rules()
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        for _ in range(12):
            results = settle_batch(
                *tables, catalog=catalog, policies=policies, partitions=4, client=client
            )[0]
            assert results.equals(whole[0])
