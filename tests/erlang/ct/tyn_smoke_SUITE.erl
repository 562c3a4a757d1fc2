%% A small common_test suite that the common_test image test runs in the guest:
%% two passing cases, one deliberately failing case and one skipped, so the result
%% tuple {Ok, Failed, {UserSkipped, AutoSkipped}} proves the counts are real.
-module(tyn_smoke_SUITE).
-export([all/0, init_per_suite/1, end_per_suite/1]).
-export([arithmetic/1, ets_table/1, deliberately_fails/1, skipped/1]).

all() -> [arithmetic, ets_table, deliberately_fails, skipped].

init_per_suite(Config) -> [{started_at, erlang:monotonic_time()} | Config].
end_per_suite(_Config) -> ok.

arithmetic(_Config) ->
    6 = 2 * 3,
    "abc" = lists:reverse("cba").

ets_table(_Config) ->
    T = ets:new(t, [set]),
    true = ets:insert(T, [{N, N * N} || N <- lists:seq(1, 100)]),
    [{10, 100}] = ets:lookup(T, 10),
    100 = ets:info(T, size).

deliberately_fails(_Config) ->
    ct:fail(on_purpose).

skipped(_Config) ->
    {skip, not_today}.
