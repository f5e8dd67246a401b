"""The verifier API's earlier name: verifiers written `from qed.numeric import ...` still
import. The API itself is `qed.verifier_api` (or simply `from qed import ...`)."""

from qed.verifier_api import *  # noqa: F403
from qed.verifier_api import __all__  # noqa: F401
