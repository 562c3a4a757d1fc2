%% The application side of the guest TCP conformance tests (tests/test_tcp_guest.py):
%% gen_tcp driven by commands typed on the console, one per line:
%%
%%     TAG COMMAND ARGS...
%%
%% Every command answers with one line "=TAG RESULT" (blocking ones -- accept, connect,
%% send, recv -- run in their own process and answer when they finish, so the console
%% stays free).  Sockets are named by the tester (NAME), kept in an ETS table.
%%
%%   listen NAME PORT BACKLOG [inet|socket]   -> ok | error Reason
%%   accept LNAME NAME TIMEOUT_MS             -> ok PEERPORT | error Reason
%%   connect NAME A.B.C.D PORT TIMEOUT_MS [inet|socket] -> ok LOCALPORT | error Reason
%%   send NAME N                              -> ok | error Reason   (N bytes: I rem 256)
%%   recv NAME LEN TIMEOUT_MS                 -> data HEX | error Reason
%%   close NAME                               -> ok
%%   shutdown NAME read|write|read_write      -> ok | error Reason
%%   nodelay NAME                             -> ok | error Reason
%%   ping                                     -> pong
-module(tcp_ctl).
-export([main/0]).

main() ->
    logger:set_primary_config(level, none),
    ets:new(tcp_ctl_socks, [named_table, public, set]),
    register(tcp_ctl, self()),
    io:format("tcp_ctl: ready~n"),
    loop().

loop() ->
    case io:get_line("") of
        eof -> halt(0);
        {error, _} -> halt(1);
        Line ->
            case string:lexemes(string:trim(Line), " ") of
                [Tag | Cmd] when Cmd =/= [] ->
                    try command(Tag, Cmd)
                    catch C:R -> reply(Tag, io_lib:format("error crash ~p:~p", [C, R]))
                    end;
                _ -> ok
            end,
            loop()
    end.

reply(Tag, Text) ->
    io:format("=~s ~s~n", [Tag, Text]).

result(Tag, ok) -> reply(Tag, "ok");
result(Tag, {error, R}) -> reply(Tag, io_lib:format("error ~p", [R])).

backend(["socket"]) -> [{inet_backend, socket}];
backend(_) -> [].

sock(Name) ->
    [{_, S}] = ets:lookup(tcp_ctl_socks, Name),
    S.

keep(Name, S) -> ets:insert(tcp_ctl_socks, {Name, S}).

%% A socket opened by a short-lived process would close when it exits: the controller
%% (the console loop, which lives as long as the node) owns every socket.
adopt(Name, S) ->
    ok = gen_tcp:controlling_process(S, whereis(tcp_ctl)),
    keep(Name, S).

async(Tag, F) ->
    spawn(fun() -> reply(Tag, F()) end),
    ok.

pattern(N) -> << <<(I rem 256)>> || I <- lists:seq(0, N - 1) >>.

command(Tag, ["ping"]) ->
    reply(Tag, "pong");
command(Tag, ["listen", Name, Port, Backlog | B]) ->
    Opts = backend(B) ++ [binary, {active, false}, {reuseaddr, true},
                          {backlog, list_to_integer(Backlog)}],
    case gen_tcp:listen(list_to_integer(Port), Opts) of
        {ok, L} -> keep(Name, L), reply(Tag, "ok");
        Err -> result(Tag, Err)
    end;
command(Tag, ["accept", LName, Name, Timeout]) ->
    L = sock(LName),
    async(Tag, fun() ->
        case gen_tcp:accept(L, list_to_integer(Timeout)) of
            {ok, S} ->
                adopt(Name, S),
                {ok, {_, Port}} = inet:peername(S),
                io_lib:format("ok ~b", [Port]);
            {error, R} -> io_lib:format("error ~p", [R])
        end end);
command(Tag, ["connect", Name, Addr, Port, Timeout | B]) ->
    {ok, IP} = inet:parse_address(Addr),
    async(Tag, fun() ->
        case gen_tcp:connect(IP, list_to_integer(Port), backend(B) ++ [binary, {active, false}],
                             list_to_integer(Timeout)) of
            {ok, S} ->
                adopt(Name, S),
                {ok, {_, Local}} = inet:sockname(S),
                io_lib:format("ok ~b", [Local]);
            {error, R} -> io_lib:format("error ~p", [R])
        end end);
command(Tag, ["send", Name, N]) ->
    S = sock(Name),
    async(Tag, fun() ->
        case gen_tcp:send(S, pattern(list_to_integer(N))) of
            ok -> "ok";
            {error, R} -> io_lib:format("error ~p", [R])
        end end);
command(Tag, ["recv", Name, Len, Timeout]) ->
    S = sock(Name),
    async(Tag, fun() ->
        case gen_tcp:recv(S, list_to_integer(Len), list_to_integer(Timeout)) of
            {ok, D} -> ["data ", binary:encode_hex(D)];
            {error, R} -> io_lib:format("error ~p", [R])
        end end);
command(Tag, ["close", Name]) ->
    result(Tag, gen_tcp:close(sock(Name)));
command(Tag, ["shutdown", Name, How]) ->
    result(Tag, gen_tcp:shutdown(sock(Name), list_to_atom(How)));
command(Tag, ["nodelay", Name]) ->
    result(Tag, inet:setopts(sock(Name), [{nodelay, true}]));
command(Tag, Other) ->
    reply(Tag, io_lib:format("error {unknown,~p}", [Other])).
