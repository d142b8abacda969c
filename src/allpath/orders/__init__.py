"""Order checks: drug identification (RxNorm map) and cited checks of proposed orders."""

from allpath.orders.checks import OrderFinding, check_orders, medication_requests
from allpath.orders.drugs import Drug, Identified, identify_name, identify_order, load_drugs

__all__ = ["Drug", "Identified", "OrderFinding", "check_orders", "identify_name",
           "identify_order", "load_drugs", "medication_requests"]
