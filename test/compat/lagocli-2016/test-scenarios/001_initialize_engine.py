"""A 2015-style scenario: plain test functions, the prefix in LAGO_PREFIX."""
import os


def test_prefix_is_given():
    assert os.path.exists(os.path.join(os.environ["LAGO_PREFIX"], ".lago", "uuid"))
