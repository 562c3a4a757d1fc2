%% CPU time as ERTS reports it: statistics(runtime) grows with a busy loop (the loop runs
%% until it has grown by BUSY_MS, or gives up after GIVE_UP_MS of wall time: a machine
%% shared with others may give it little CPU, so the wall time it takes says nothing) and
%% stays nearly flat while the VM sleeps.  One line per check, "cpu <check>: <term>", the same on Tyn and on Linux
%% (tests/test_erlang_cputime.py); the raw milliseconds go to a "cpu raw" line for the log.
-module(tyn_cputime).
-export([main/0]).

-define(BUSY_MS, 300).
-define(GIVE_UP_MS, 120000).
-define(SLEEP_MS, 600).

main() ->
    {Run0, _} = statistics(runtime),
    Wall0 = erlang:monotonic_time(millisecond),
    Reached = busy(Run0 + ?BUSY_MS, Wall0 + ?GIVE_UP_MS),
    Wall1 = erlang:monotonic_time(millisecond),
    {Run1, _} = statistics(runtime),
    timer:sleep(?SLEEP_MS),
    {Run2, _} = statistics(runtime),
    Busy = Run1 - Run0,
    Slept = Run2 - Run1,
    io:format("cpu raw: busy ~p ms of CPU in ~p ms; ~p ms of CPU over a ~p ms sleep~n",
              [Busy, Wall1 - Wall0, Slept, ?SLEEP_MS]),
    out("busy_loop_accumulates_runtime", Reached),
    out("busy_not_more_than_wall", Busy =< (Wall1 - Wall0) + 20),
    out("sleep_stays_flat", Slept < ?SLEEP_MS div 4),
    out("runtime_monotonic", Run2 >= Run1 andalso Run1 >= Run0),
    out("done", ok),
    halt(0).

busy(RuntimeGoal, GiveUp) ->
    _ = lists:sum(lists:seq(1, 2000)),
    {Run, _} = statistics(runtime),
    case Run >= RuntimeGoal of
        true -> true;
        false ->
            case erlang:monotonic_time(millisecond) >= GiveUp of
                true -> false;
                false -> busy(RuntimeGoal, GiveUp)
            end
    end.

out(Check, Term) ->
    io:format("cpu ~s: ~p~n", [Check, Term]).
