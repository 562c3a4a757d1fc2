%% The epmd module of `tyn.build image --sname/--name` images (-epmd_module tyn_epmd).
%%
%% On Linux, erlexec starts the port mapper before beam.smp when the node is distributed
%% (erts/etc/common/erlexec.c, start_epmd_daemon: system("BINDIR/epmd -daemon")).  A Tyn
%% image starts beam.smp itself, so this module does that step: start_link/0 runs the
%% image's stock epmd with -daemon, waits until it answers on 127.0.0.1:4369, and then
%% hands everything to OTP's own client, erl_epmd.  The daemon and the protocol are
%% OTP's, unmodified; only the launch lives here.
-module(tyn_epmd).
-export([start_link/0, register_node/2, register_node/3, port_please/2, port_please/3,
         address_please/3, names/0, names/1, listen_port_please/2]).

%% epmd -daemon returns once its first child has forked; the daemon binds its socket a
%% moment later (erts/epmd/src/epmd.c, run_daemon).  Ask for its names until it answers,
%% a bounded number of times.
-define(READY_TRIES, 200).
-define(READY_PAUSE_MS, 25).

start_link() ->
    case start_daemon() of
        ok -> erl_epmd:start_link();
        {error, _} = E -> E
    end.

start_daemon() ->
    Epmd = filename:join(os:getenv("BINDIR"), "epmd"),
    try open_port({spawn_executable, Epmd}, [{args, ["-daemon"]}, exit_status, nouse_stdio]) of
        Port ->
            receive
                {Port, {exit_status, 0}} -> wait_ready(?READY_TRIES);
                {Port, {exit_status, N}} -> {error, {epmd_exit_status, N}}
            end
    catch
        error:Why -> {error, {epmd_spawn, Epmd, Why}}
    end.

wait_ready(0) ->
    {error, epmd_not_answering};
wait_ready(N) ->
    case erl_epmd:names({127, 0, 0, 1}) of
        {ok, _} -> ok;
        {error, _} -> timer:sleep(?READY_PAUSE_MS), wait_ready(N - 1)
    end.

register_node(Name, Port) -> erl_epmd:register_node(Name, Port).
register_node(Name, Port, Family) -> erl_epmd:register_node(Name, Port, Family).
port_please(Name, Host) -> erl_epmd:port_please(Name, Host).
port_please(Name, Host, Timeout) -> erl_epmd:port_please(Name, Host, Timeout).
address_please(Name, Host, Family) -> erl_epmd:address_please(Name, Host, Family).
names() -> erl_epmd:names().
names(Host) -> erl_epmd:names(Host).
listen_port_please(Name, Host) -> erl_epmd:listen_port_please(Name, Host).
