"""The root mutation: the domain mixins side by side."""

import strawberry

from resolvers.mutations.accounts import AccountMutations
from resolvers.mutations.measurements import MeasurementMutations
from resolvers.mutations.ocpp import OcppMutations
from resolvers.mutations.optimization import OptimizationMutations
from resolvers.mutations.sites import SiteMutations
from resolvers.mutations.steering import SteeringMutations
from resolvers.mutations.systems import SystemMutations
from resolvers.mutations.topology import TopologyMutations


@strawberry.type
class Mutation(
    AccountMutations,
    SystemMutations,
    SiteMutations,
    TopologyMutations,
    MeasurementMutations,
    SteeringMutations,
    OptimizationMutations,
    OcppMutations,
):
    pass
