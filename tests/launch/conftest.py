import pytest

from tests.launch.cluster import SlurmCluster, unavailable_reason


@pytest.fixture(scope="session")
def slurm(tmp_path_factory):
    """One real single-node Slurm cluster for the session; every daemon stopped by its PID at the end."""
    reason = unavailable_reason()
    if reason:
        print(f"\nSKIP: {reason}")
        pytest.skip(reason)
    cluster = SlurmCluster(tmp_path_factory.mktemp("slurm"))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
