"""The schema object; `schema.graphql` is exported from it (`phasewise export-schema`)."""

import strawberry
from strawberry.extensions import QueryDepthLimiter
from strawberry.schema.config import StrawberryConfig

import resolvers.types.enums  # noqa: F401  (registers the domain enums)
from app.settings import get_settings
from resolvers.availability import DatabaseOutage
from resolvers.errors import masking_extension
from resolvers.mutation import Mutation
from resolvers.mutations.measurement_points import MEASUREMENT_POINTS, MeasurementPoints
from resolvers.observation import RequestObservation
from resolvers.query import Query
from resolvers.subscriptions import Subscription
from resolvers.types.device import Battery, ChargingPole, ForecastedSeries

schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    types=[ChargingPole, ForecastedSeries, Battery],
    config=StrawberryConfig(scalar_map={MeasurementPoints: MEASUREMENT_POINTS}),
    extensions=[
        masking_extension,
        lambda: QueryDepthLimiter(max_depth=get_settings().max_query_depth),
        DatabaseOutage,  # after the masking: it sees the errors first
        RequestObservation,  # last: sees the errors as raised
    ],
)
