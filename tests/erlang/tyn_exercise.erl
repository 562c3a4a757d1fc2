%% The Erlang exercise program: one line per check, the same on Tyn and on Linux
%% (`python -m tyn.hostrun`), compared line by line by tests/test_erlang_exercise.py.
%%
%% Every line is "ex <section>.<check>: <term>", printed on one line; nothing
%% run-specific (pids, refs, times, host paths) is printed raw: only what it implies
%% (booleans, counts, sorted lists).  Ends with "ex done: ok" and halt(0).
%% Paths into the root filesystem are built from code:root_dir(), which is /otp in the
%% guest and <unpacked rootfs>/otp under hostrun.
-module(tyn_exercise).
-export([main/0]).

-define(RING_SIZE, 300).
-define(RING_ROUNDS, 10).
-define(FAN_OUT, 500).
-define(LINKED, 200).

main() ->
    %% Crashes below are deliberate; their error reports would hold pids.
    logger:set_primary_config(level, none),
    Sections = [fun procs/0, fun ets_checks/0, fun timers/0, fun binaries/0,
                fun rootfs/0, fun tmp/0, fun system/0, fun ports/0],
    lists:foreach(fun(F) -> section(F) end, Sections),
    out("done", ok),
    halt(0).

%% A section that crashes says so in its own line and the others still run.
section(F) ->
    Self = self(),
    {P, R} = spawn_monitor(fun() -> F(), Self ! {section_done, self()} end),
    receive
        {section_done, P} -> receive {'DOWN', R, process, P, _} -> ok end;
        {'DOWN', R, process, P, Reason} -> out("section_crashed", {F, Reason})
    end.

out(Key, Term) ->
    Text = io_lib:print(Term, 1, 1000000, -1),
    io:put_chars(["ex ", Key, ": ", Text, "\n"]).

%% ------------------------------------------------------------ processes and links

procs() ->
    Self = self(),
    P1 = spawn(fun() -> receive {From, X} -> From ! {self(), X * 2} end end),
    P1 ! {Self, 21},
    out("proc.spawn_reply", receive {P1, V} -> V after 5000 -> timeout end),

    process_flag(trap_exit, true),
    out("proc.exit_normal", exit_reason(spawn_link(fun() -> ok end))),
    out("proc.exit_reason", exit_reason(spawn_link(fun() -> exit({shutdown, because}) end))),
    out("proc.exit_error", element(1, exit_reason(spawn_link(fun() -> 1 = length([a, b]) end)))),
    out("proc.exit_throw", element(1, exit_reason(spawn_link(fun() -> throw(ball) end)))),
    Sleeper = spawn_link(fun() -> receive never -> ok end end),
    exit(Sleeper, kill),
    out("proc.exit_killed", exit_reason(Sleeper)),
    Ignorer = spawn_link(fun() -> process_flag(trap_exit, true),
                                  receive {'EXIT', _, R} -> exit({trapped, R}) end end),
    exit(Ignorer, please_stop),
    out("proc.exit_trapped_by_child", exit_reason(Ignorer)),

    %% A link without trap_exit carries the death on; a monitor reports it.
    Middle = spawn(fun() ->
                           spawn_link(fun() -> exit(chain_reaction) end),
                           receive never -> ok end
                   end),
    MRef = monitor(process, Middle),
    out("proc.link_propagates", receive {'DOWN', MRef, process, Middle, R1} -> R1
                                after 5000 -> timeout end),
    out("proc.alive_after_down", is_process_alive(Middle)),
    NRef = monitor(process, Middle),
    out("proc.monitor_dead", receive {'DOWN', NRef, process, Middle, R2} -> R2
                             after 5000 -> timeout end),
    DRef = monitor(process, spawn(fun() -> receive go -> ok end end)),
    out("proc.demonitor", demonitor(DRef, [flush, info])),
    {Mon, MonRef} = spawn_monitor(fun() -> exit(monitored) end),
    out("proc.spawn_monitor", receive {'DOWN', MonRef, process, Mon, R3} -> R3 end),
    out("proc.unlink", begin
                           U = spawn_link(fun() -> receive go -> exit(unlinked_exit) end end),
                           unlink(U),
                           URef = monitor(process, U),
                           U ! go,
                           receive {'DOWN', URef, _, _, _} -> ok end,
                           receive {'EXIT', U, _} -> got_exit after 100 -> no_exit end
                       end),

    true = register(tyn_exercise_named, spawn(fun() -> receive {ping, F} -> F ! pong end end)),
    out("proc.registered", is_pid(whereis(tyn_exercise_named))),
    tyn_exercise_named ! {ping, self()},
    out("proc.named_send", receive pong -> pong after 5000 -> timeout end),
    out("proc.badarg_send", try no_such_name ! hello catch error:E -> E end),

    out("proc.ring", ring(?RING_SIZE, ?RING_ROUNDS)),
    out("proc.fan_out", fan_out(?FAN_OUT)),
    out("proc.linked_kill", linked_kill(?LINKED)),
    out("proc.selective_receive", selective()),
    process_flag(trap_exit, false),
    ok.

exit_reason(Pid) ->
    receive {'EXIT', Pid, Reason} -> Reason after 5000 -> timeout end.

%% N processes in a ring; a token goes round Rounds times; returns the hop count.
ring(N, Rounds) ->
    Self = self(),
    First = lists:foldl(fun(_, Next) -> spawn(fun() -> ring_node(Next) end) end, Self, lists:seq(1, N)),
    First ! {token, N * Rounds},
    Hops = ring_main(First, 0),
    %% The stop goes round too and comes back: no stray message is left behind.
    First ! stop,
    receive stop -> ok after 30000 -> timeout end,
    {N, Hops}.

ring_main(First, Hops) ->
    receive
        {token, 0} -> Hops + 1;
        {token, K} -> First ! {token, K - 1}, ring_main(First, Hops + 1)
    after 30000 -> {timeout, Hops}
    end.

ring_node(Next) ->
    receive
        {token, K} -> Next ! {token, K}, ring_node(Next);
        stop -> Next ! stop
    end.

fan_out(N) ->
    Self = self(),
    Pids = [spawn(fun() -> Self ! {self(), I, I * I} end) || I <- lists:seq(1, N)],
    Results = [receive {P, I, Sq} -> {I, Sq} after 10000 -> timeout end || P <- Pids],
    {length(Results), lists:sum([Sq || {_, Sq} <- Results]),
     lists:sort([I || {I, _} <- Results]) =:= lists:seq(1, N)}.

%% N linked processes, all killed: every 'EXIT' arrives with reason killed.
linked_kill(N) ->
    Pids = [spawn_link(fun() -> receive never -> ok end end) || _ <- lists:seq(1, N)],
    [exit(P, kill) || P <- Pids],
    Reasons = [exit_reason(P) || P <- Pids],
    lists:usort(Reasons) =:= [killed] andalso length(Reasons) =:= N.

selective() ->
    self() ! {b, 2}, self() ! {a, 1}, self() ! {c, 3},
    A = receive {a, X} -> X end,
    C = receive {c, Y} -> Y end,
    B = receive {b, Z} -> Z end,
    {A, B, C, process_info(self(), message_queue_len)}.

%% --------------------------------------------------------------------------- ETS

ets_checks() ->
    S = ets:new(s, [set]),
    true = ets:insert(S, [{k1, 1}, {k2, 2}, {k3, 3}]),
    true = ets:insert(S, {k2, twenty}),
    out("ets.set_lookup", {ets:lookup(S, k2), ets:lookup(S, missing), ets:member(S, k3)}),
    out("ets.set_size", ets:info(S, size)),
    out("ets.insert_new", {ets:insert_new(S, {k1, x}), ets:insert_new(S, {k9, 9})}),
    out("ets.update_counter", {ets:update_counter(S, k1, 5), ets:update_counter(S, k1, {2, 10, 12, 0}),
                               ets:update_counter(S, fresh, 7, {fresh, 100})}),
    out("ets.update_counter_badarg", element(1, element(2, catch ets:update_counter(S, k2, 1)))),
    out("ets.update_element", {ets:update_element(S, k3, {2, three}), ets:lookup_element(S, k3, 2)}),
    true = ets:delete(S, k9),
    out("ets.after_delete", lists:sort(ets:tab2list(S))),
    out("ets.take", {ets:take(S, fresh), ets:lookup(S, fresh)}),

    O = ets:new(o, [ordered_set]),
    ets:insert(O, [{I, I * I, if I rem 2 =:= 0 -> even; true -> odd end} || I <- lists:seq(20, 1, -1)]),
    out("ets.ordered_first_last", {ets:first(O), ets:last(O), ets:next(O, 5), ets:prev(O, 5)}),
    out("ets.ordered_keys", [K || {K, _, _} <- ets:tab2list(O)] =:= lists:seq(1, 20)),
    out("ets.match", lists:append(ets:match(O, {'$1', '_', even})) =:= lists:seq(2, 20, 2)),
    out("ets.match_object", ets:match_object(O, {'_', 49, '_'})),
    Ms = [{{'$1', '$2', odd}, [{'>', '$2', 100}], [{{'$1', '$2'}}]}],
    out("ets.select", ets:select(O, Ms)),
    out("ets.select_count", ets:select_count(O, [{{'_', '_', even}, [], [true]}])),
    {Chunk, Cont} = ets:select(O, [{{'$1', '_', '_'}, [], ['$1']}], 7),
    {Chunk2, _} = ets:select(Cont),
    out("ets.select_chunks", {Chunk, Chunk2}),
    out("ets.select_delete", {ets:select_delete(O, [{{'_', '_', odd}, [], [true]}]), ets:info(O, size)}),
    out("ets.foldl", ets:foldl(fun({K, _, _}, Acc) -> K + Acc end, 0, O)),

    B = ets:new(b, [bag]),
    ets:insert(B, [{color, red}, {color, blue}, {color, red}, {shape, round}]),
    out("ets.bag_lookup", lists:sort(ets:lookup(B, color))),
    ets:delete_object(B, {color, red}),
    out("ets.bag_delete_object", ets:lookup(B, color)),
    D = ets:new(d, [duplicate_bag]),
    ets:insert(D, [{x, 1}, {x, 1}, {x, 2}]),
    out("ets.duplicate_bag", lists:sort(ets:lookup(D, x))),

    %% Named tables, access rights, and what happens to a table when its owner dies.
    Self = self(),
    Owner = spawn(fun() ->
                          T = ets:new(tyn_exercise_named, [named_table, public]),
                          ets:insert(T, {owned_by, child}),
                          Self ! {created, T},
                          receive die -> ok end
                  end),
    receive {created, _} -> ok end,
    out("ets.named_lookup", ets:lookup(tyn_exercise_named, owned_by)),
    ORef = monitor(process, Owner),
    Owner ! die,
    receive {'DOWN', ORef, _, _, _} -> ok end,
    out("ets.deleted_with_owner", ets:info(tyn_exercise_named)),
    out("ets.lookup_gone", element(1, element(2, catch ets:lookup(tyn_exercise_named, owned_by)))),

    Heir = spawn(fun() ->
                         T = ets:new(h, [set, {heir, Self, inherited}]),
                         ets:insert(T, {from, heir_test}),
                         Self ! {heir_table, T},
                         receive die -> exit(normal) end
                 end),
    HT = receive {heir_table, T0} -> T0 end,
    out("ets.protected_write", element(1, element(2, catch ets:insert(HT, {x, y})))),
    Heir ! die,
    out("ets.heir_transfer", receive {'ETS-TRANSFER', HT, Heir, Data} ->
                                     {Data, ets:info(HT, owner) =:= Self, ets:lookup(HT, from)}
                             after 5000 -> timeout end),
    Taker = spawn(fun() ->
                          receive {'ETS-TRANSFER', T, _, Gift} ->
                                  ets:insert(T, {taken, Gift}),
                                  Self ! {took, ets:info(T, owner) =:= self()}
                          end
                  end),
    true = ets:give_away(HT, Taker, a_gift),
    out("ets.give_away", receive {took, Took} -> {Took, ets:lookup(HT, taken)} after 5000 -> timeout end),
    out("ets.delete", {ets:delete(S), ets:info(S)}),
    ok.

%% ------------------------------------------------------------------------- timers

timers() ->
    T0 = erlang:monotonic_time(millisecond),
    R = receive never -> got after 50 -> timeout end,
    out("timer.receive_after", {R, erlang:monotonic_time(millisecond) - T0 >= 50}),
    out("timer.after_zero", receive never -> got after 0 -> timeout end),

    T1 = erlang:monotonic_time(millisecond),
    erlang:send_after(30, self(), tick),
    out("timer.send_after", receive tick -> {tick, erlang:monotonic_time(millisecond) - T1 >= 30}
                            after 5000 -> timeout end),
    Ref = erlang:start_timer(20, self(), payload),
    out("timer.start_timer", receive {timeout, Ref, P} -> P after 5000 -> timeout end),

    Late = erlang:send_after(10000, self(), never_sent),
    Left = erlang:read_timer(Late),
    Cancelled = erlang:cancel_timer(Late),
    out("timer.cancel_remaining", {is_integer(Left), Left > 5000, Left =< 10000,
                                   is_integer(Cancelled), Cancelled =< Left}),
    out("timer.cancelled_silent", receive never_sent -> arrived after 100 -> silent end),
    Done = erlang:start_timer(5, self(), soon),
    receive {timeout, Done, soon} -> ok end,
    out("timer.cancel_expired", {erlang:cancel_timer(Done), erlang:read_timer(Done)}),

    %% Several timers: delivered in expiry order, not in the order they were set.
    [erlang:send_after(Ms, self(), {order, Tag}) || {Ms, Tag} <- [{60, c}, {20, a}, {40, b}]],
    out("timer.order", [receive {order, Tag} -> Tag after 5000 -> timeout end || _ <- [1, 2, 3]]),

    T2 = erlang:monotonic_time(microsecond),
    ok = timer:sleep(40),
    Slept = erlang:monotonic_time(microsecond) - T2,
    out("timer.sleep", {Slept >= 40000, Slept < 5000000}),
    {ok, TRef} = timer:send_after(25, self(), from_timer_server),
    out("timer.server_send_after", {is_tuple(TRef), receive from_timer_server -> got after 5000 -> timeout end}),
    {ok, IRef} = timer:send_interval(10, self(), interval),
    Ticks = [receive interval -> 1 after 5000 -> 0 end || _ <- [1, 2, 3]],
    {ok, cancel} = timer:cancel(IRef),
    out("timer.interval", lists:sum(Ticks)),
    {Micros, slept} = timer:tc(fun() -> timer:sleep(15), slept end),
    out("timer.tc", Micros >= 15000),

    Ts = [erlang:monotonic_time() || _ <- lists:seq(1, 1000)],
    out("timer.monotonic_nondecreasing", Ts =:= lists:sort(Ts)),
    Sys = erlang:system_time(second),
    out("timer.system_time_sane", abs(Sys - os:system_time(second)) =< 1 andalso Sys > 1600000000),
    out("timer.time_offset_consistent",
        abs(erlang:monotonic_time(second) + erlang:time_offset(second) - erlang:system_time(second)) =< 1),
    out("timer.unique_integers", begin
                                     U = [erlang:unique_integer([monotonic]) || _ <- lists:seq(1, 100)],
                                     U =:= lists:usort(U)
                                 end),
    ok.

%% ----------------------------------------------------------------------- binaries

binaries() ->
    <<A:4, B:12, Rest/binary>> = <<16#AB, 16#CD, "tail">>,
    out("bin.bit_syntax", {A, B, Rest}),
    <<F:64/float, L:32/little, S:16/signed, U/utf8, Bits:3/bits, _:5>> =
        <<3.5:64/float, 1000:32/little, -2:16/signed, 16#1F600/utf8, 2#10100000>>,
    out("bin.decode", {F, L, S, U, Bits}),
    out("bin.construct", <<1:1, 0:1, 5:6, 300:16/big, 300:16/little, "x", 1.0/float>>),
    out("bin.bitstring", {bit_size(<<1:3, 7:4>>), <<1:3, 7:4>>, is_binary(<<1:3>>), is_bitstring(<<1:3>>)}),
    out("bin.comprehension", << <<(X * 2)>> || <<X>> <= <<1, 2, 3, 4>>, X > 1 >>),
    out("bin.utf8", {unicode:characters_to_list(<<"h", 16#e9/utf8, "llo">>, utf8),
                     unicode:characters_to_binary([16#3bb, $x])}),

    Text = <<"alpha,beta,,gamma,delta">>,
    out("bin.split", {binary:split(Text, <<",">>), binary:split(Text, <<",">>, [global, trim_all])}),
    out("bin.match", {binary:match(Text, <<"gam">>), binary:matches(Text, [<<"a,">>, <<"ta">>])}),
    out("bin.replace", binary:replace(Text, <<",">>, <<";">>, [global])),
    out("bin.part_copy", {binary:part(Text, 6, 4), binary:copy(<<"ab">>, 3), binary:at(Text, 0)}),
    out("bin.unsigned", {binary:encode_unsigned(16#123456), binary:decode_unsigned(<<1, 0, 0>>),
                         binary:encode_unsigned(258, little)}),
    out("bin.prefix_suffix", {binary:longest_common_prefix([<<"foobar">>, <<"foobaz">>]),
                              binary:longest_common_suffix([<<"abcxyz">>, <<"qxyz">>])}),
    out("bin.list", {binary_to_list(<<"abc">>), list_to_binary([<<"a">>, "bc", [$d, <<"e">>]]),
                     iolist_size([<<"abc">>, "de", [$f]])}),
    out("bin.integer", {integer_to_binary(255, 16), binary_to_integer(<<"-42">>),
                        float_to_binary(1.5, [{decimals, 3}])}),
    out("bin.base64", {base64:encode(<<"Tyn kernel">>), base64:decode(<<"aGVsbG8=">>)}),
    out("bin.hex", binary:encode_hex(<<1, 171, 255>>)),

    %% Large (refc, > 64 bytes) binaries: shared between processes, not copied.
    Big = binary:copy(<<"0123456789abcdef">>, 4096),
    Self = self(),
    Worker = spawn(fun() ->
                           receive {bin, From, Bin} ->
                                   Sub = binary:part(Bin, 1000, 100),
                                   From ! {self(), byte_size(Bin), erlang:md5(Bin), Sub,
                                           binary:referenced_byte_size(Sub)}
                           end
                   end),
    Worker ! {bin, Self, Big},
    out("bin.refc_between_processes",
        receive {Worker, Size, Md5, Sub, Ref} ->
                {Size, binary:encode_hex(Md5), Sub, Ref =:= byte_size(Big)}
        after 5000 -> timeout end),
    Echoes = pmap_echo([binary:copy(<<I>>, 1000 + I) || I <- lists:seq(1, 50)]),
    out("bin.refc_echo", {length(Echoes), lists:sum([byte_size(E) || E <- Echoes])}),
    out("bin.crc_adler", {erlang:crc32(Big), erlang:adler32(Big), erlang:phash2(Big)}),

    Term = {atom, "string", <<"bin">>, 1.25, -(1 bsl 70), [1, 2 | tail], #{k => v, 1 => [x]},
            {nested, {tuple}}, Big},
    Ext = term_to_binary(Term),
    out("bin.term_roundtrip", {binary_to_term(Ext) =:= Term, byte_size(Ext),
                               binary:encode_hex(erlang:md5(Ext))}),
    Compressed = term_to_binary(Term, [{compressed, 9}]),
    out("bin.term_compressed", {binary_to_term(Compressed) =:= Term, byte_size(Compressed) < byte_size(Ext)}),
    out("bin.term_safe", element(1, catch binary_to_term(<<131, 100, 0, 5, "nosuchatomxyz">>, [safe]))),
    out("bin.external_size", erlang:external_size({a, <<"b">>, [c]})),

    out("bin.zlib", try zlib_checks(Big) catch Class:Reason -> {Class, error_tag(Reason)} end),
    ok.

pmap_echo(Bins) ->
    Self = self(),
    Pids = [spawn(fun() -> receive {echo, B} -> Self ! {self(), B} end end) || _ <- Bins],
    [P ! {echo, B} || {P, B} <- lists:zip(Pids, Bins)],
    [receive {P, B} -> B after 5000 -> timeout end || P <- Pids].

zlib_checks(Data) ->
    C = zlib:compress(Data),
    G = zlib:gzip(Data),
    Z = zlib:zip(Data),
    {zlib:uncompress(C) =:= Data, zlib:gunzip(G) =:= Data, zlib:unzip(Z) =:= Data,
     byte_size(C) < byte_size(Data) div 10, byte_size(C)}.

%% ------------------------------------------------------------ root filesystem reads

rootfs() ->
    Otp = code:root_dir(),
    Root = filename:dirname(Otp),
    out("rootfs.otp_version", file:read_file(filename:join([Otp, "releases", "27", "OTP_VERSION"]))),
    out("rootfs.hostname", file:read_file(filename:join([Root, "etc", "hostname"]))),
    out("rootfs.list_etc", sorted(file:list_dir(filename:join(Root, "etc")))),
    out("rootfs.list_bin", sorted(file:list_dir(filename:join(Otp, "bin")))),
    out("rootfs.lib_apps", lists:sort([filename:basename(D) || D <- filelib:wildcard(filename:join(Otp, "lib/*"))])),
    Boot = filename:join([Otp, "bin", "start_clean.boot"]),
    {ok, BootBin} = file:read_file(Boot),
    {ok, BootInfo} = file:read_file_info(Boot),
    out("rootfs.file_info", {element(3, BootInfo), element(2, BootInfo) =:= byte_size(BootBin),
                             element(4, BootInfo)}),
    {ok, DirInfo} = file:read_file_info(filename:join(Otp, "lib")),
    out("rootfs.dir_info", {element(3, DirInfo), element(4, DirInfo)}),
    out("rootfs.modes", {element(8, BootInfo) band 8#777, element(8, DirInfo) band 8#777}),
    Scratch = filename:join([Root, "etc", "tyn_exercise_scratch"]),
    out("rootfs.write", {file:write_file(Scratch, <<"x">>), file:delete(Scratch),
                         file:make_dir(Scratch), file:del_dir(Scratch)}),
    out("rootfs.boot_term", element(1, binary_to_term(BootBin))),
    {ok, [{application, kernel, Props}]} = file:consult(code:where_is_file("kernel.app")),
    out("rootfs.consult_app", proplists:get_value(vsn, Props)),
    {ok, Fd} = file:open(filename:join(Root, "etc/hosts"), [read, binary]),
    First = file:read_line(Fd),
    {ok, _} = file:position(Fd, bof),
    Pread = file:pread(Fd, 0, 9),
    out("rootfs.read_line_pread", {First, Pread, file:read(Fd, 0)}),
    ok = file:close(Fd),
    out("rootfs.enoent", {file:read_file(filename:join(Root, "etc/nonexistent")),
                          file:read_file_info(filename:join(Root, "nonexistent/x"))}),
    %% lists.beam spans several pages (36 KB stripped, 19 KB with --beams gz, 140 KB as shipped).
    Lists = code:which(lists),
    {ok, ListsBin} = file:read_file(Lists),
    out("rootfs.large_read", {byte_size(ListsBin) > 16384, binary:encode_hex(erlang:md5(ListsBin)),
                              proplists:get_value(module, beam_lib:info(Lists))}),
    out("rootfs.errors", {file:read_file(Otp), file:list_dir(Boot), file:read_file(filename:join(Boot, "x"))}),
    {ok, Chunked} = file:open(Lists, [read, raw, binary, read_ahead]),
    out("rootfs.chunked_read", iolist_to_binary(read_all(Chunked, [])) =:= ListsBin),
    ok = file:close(Chunked),
    out("rootfs.is_dir", {filelib:is_dir(Otp), filelib:is_regular(Boot), filelib:is_dir(Boot)}),
    out("rootfs.code_load", {code:ensure_loaded(array), is_list(code:which(array))}),
    ok.

read_all(Fd, Acc) ->
    case file:read(Fd, 4093) of
        {ok, Data} -> read_all(Fd, [Acc, Data]);
        eof -> Acc
    end.

sorted({ok, L}) -> {ok, lists:sort(L)};
sorted(Other) -> Other.

%% -------------------------------------------------------------- /tmp writes and reads

tmp() ->
    %% Under hostrun /tmp is the host's: a name of our own, removed at the end.
    Dir = "/tmp/tyn_exercise_" ++ os:getpid(),
    F = filename:join(Dir, "a.txt"),
    G = filename:join(Dir, "b.txt"),
    Sub = filename:join(Dir, "sub"),
    out("tmp.make_dir", {file:make_dir(Dir), file:make_dir(Dir)}),
    out("tmp.write_file", file:write_file(F, <<"hello\n">>)),
    out("tmp.read_file", file:read_file(F)),
    out("tmp.append", {file:write_file(F, <<"world\n">>, [append]), file:read_file(F)}),
    {ok, Info} = file:read_file_info(F),
    out("tmp.file_info", {element(2, Info), element(3, Info), element(4, Info)}),
    out("tmp.rename", {file:rename(F, G), file:read_file(F), file:read_file(G)}),
    out("tmp.make_sub", file:make_dir(Sub)),
    {ok, DInfo} = file:read_file_info(Sub),
    out("tmp.dir_info", element(3, DInfo)),
    out("tmp.list_dir", sorted(file:list_dir(Dir))),
    out("tmp.eexist", {file:make_dir(Sub), file:del_dir(Dir)}),
    out("tmp.enotdir", {file:list_dir(G), file:read_file(filename:join(G, "x")),
                        file:make_dir(filename:join(G, "x"))}),
    out("tmp.eisdir", {file:read_file(Sub), file:open(Sub, [write])}),
    out("tmp.enoent", {file:read_file(F), file:delete(F), file:list_dir(filename:join(Dir, "nope")),
                       file:write_file(filename:join([Dir, "nope", "x"]), <<>>)}),

    %% Random access, truncation, a large file, a copy.
    H = filename:join(Dir, "rw.bin"),
    {ok, Fd} = file:open(H, [read, write, binary, raw]),
    ok = file:pwrite(Fd, 10, <<"tail">>),
    ok = file:pwrite(Fd, 0, <<"head">>),
    out("tmp.pread", {file:pread(Fd, 0, 14), file:position(Fd, eof)}),
    {ok, 6} = file:position(Fd, 6),
    ok = file:truncate(Fd),
    out("tmp.truncate", {file:pread(Fd, 0, 100), file:pread(Fd, 100, 1)}),
    ok = file:close(Fd),
    Large = << <<(I rem 251)>> || I <- lists:seq(1, 1 bsl 20) >>,
    L = filename:join(Dir, "large.bin"),
    out("tmp.large", {file:write_file(L, Large), filelib:file_size(L),
                      file:read_file(L) =:= {ok, Large}}),
    out("tmp.copy", {file:copy(L, filename:join(Dir, "copy.bin")),
                     file:read_file(filename:join(Dir, "copy.bin")) =:= {ok, Large}}),
    out("tmp.read_line", begin
                             ok = file:write_file(F, <<"one\ntwo\nthree">>),
                             {ok, LF} = file:open(F, [read]),
                             Ls = [file:read_line(LF) || _ <- [1, 2, 3, 4]],
                             ok = file:close(LF),
                             Ls
                         end),
    out("tmp.list_dir_full", sorted(file:list_dir(Dir))),
    more_tmp(Dir),

    %% Clean up: rmdir of a non-empty dir fails; then everything goes.
    out("tmp.del_dir_nonempty", file:del_dir(Dir)),
    out("tmp.delete_all", [file:delete(filename:join(Dir, N)) || N <- ["a.txt", "b.txt", "rw.bin",
                                                                       "large.bin", "copy.bin"]]),
    out("tmp.del_dirs", {file:del_dir(Sub), file:del_dir(Dir), file:list_dir(Dir)}),
    ok.

%% Links, times, modes, exclusive creation, renames over things, handle errors; leaves
%% Dir as it found it.
more_tmp(Dir) ->
    P = fun(N) -> filename:join(Dir, N) end,
    ok = file:write_file(P("t1"), <<"one">>),
    out("tmp.symlink", {file:make_symlink("t1", P("l1")), file:read_link(P("l1")),
                        file:read_file(P("l1")), element(3, element(2, file:read_link_info(P("l1")))),
                        element(3, element(2, file:read_file_info(P("l1"))))}),
    out("tmp.symlink_errors", {file:make_symlink("t1", P("l1")), file:read_link(P("t1")),
                               file:read_file(P("dangling")), file:make_symlink("nowhere", P("dangling")),
                               file:read_file(P("dangling"))}),
    Now = os:system_time(second),
    {ok, I1} = file:read_file_info(P("t1"), [{time, posix}]),
    out("tmp.mtime_recent", abs(element(6, I1) - Now) =< 5),
    Fixed = {{2020, 1, 2}, {3, 4, 5}},
    out("tmp.change_time", {file:change_time(P("t1"), Fixed, Fixed),
                            element(5, element(2, file:read_file_info(P("t1"), [{time, universal}]))) =:=
                                element(6, element(2, file:read_file_info(P("t1"), [{time, universal}])))}),
    {ok, I2} = file:read_file_info(P("t1"), [{time, posix}]),
    out("tmp.change_time_posix", {element(5, I2), element(6, I2)}),
    out("tmp.change_mode", {file:change_mode(P("t1"), 8#640),
                            element(8, element(2, file:read_file_info(P("t1")))) band 8#777}),
    out("tmp.exclusive", {element(1, file:open(P("t1"), [write, exclusive])),
                          case file:open(P("fresh"), [write, exclusive]) of
                              {ok, Fd} -> file:close(Fd);
                              E -> E
                          end}),
    ok = file:write_file(P("t2"), <<"two">>),
    out("tmp.rename_over", {file:rename(P("t2"), P("t1")), file:read_file(P("t1")), file:read_file(P("t2"))}),
    ok = file:make_dir(P("d1")),
    ok = file:write_file(P("d1/inner"), <<"in">>),
    out("tmp.rename_dir", {file:rename(P("d1"), P("d2")), file:read_file(P("d2/inner")),
                           file:list_dir(P("d1"))}),
    out("tmp.rename_errors", {file:rename(P("missing"), P("x")), file:rename(P("t1"), P("nodir/x")),
                              file:rename(P("d2"), P("t1")), file:rename(P("t1"), P("d2"))}),
    out("tmp.ensure_dir", {filelib:ensure_dir(P("e1/e2/e3/file")), filelib:is_dir(P("e1/e2/e3"))}),
    out("tmp.fold_files", lists:sort([filename:basename(F) ||
                                         F <- filelib:fold_files(Dir, "", true, fun(F, A) -> [F | A] end, [])])),
    {ok, W} = file:open(P("t1"), [write, raw]),
    out("tmp.handle_errors", {file:read(W, 1), file:position(W, {cur, -100})}),
    ok = file:close(W),
    out("tmp.closed_handle", file:write(W, <<"x">>)),
    {ok, R} = file:open(P("t1"), [read, binary]),
    out("tmp.io_server_write_on_read", file:write(R, <<"x">>)),
    ok = file:close(R),
    out("tmp.sync", begin
                        {ok, S} = file:open(P("t1"), [append, raw]),
                        Res = {file:write(S, <<"!">>), file:sync(S), file:datasync(S)},
                        ok = file:close(S),
                        {Res, file:read_file(P("t1"))}
                    end),
    out("tmp.del_dir_r", {file:del_dir_r(P("e1")), file:del_dir_r(P("d2")), filelib:is_dir(P("e1"))}),
    out("tmp.cleanup", [file:delete(P(N)) || N <- ["t1", "l1", "dangling", "fresh"]]),
    ok.

%% -------------------------------------------------------------------- system_info

system() ->
    Keys = [otp_release, version, wordsize, smp_support, threads, thread_pool_size,
            schedulers, schedulers_online, logical_processors, logical_processors_available,
            logical_processors_online, dirty_cpu_schedulers, dirty_io_schedulers, kernel_poll,
            machine, emu_flavor, emu_type, system_architecture, process_limit, port_limit,
            atom_limit, ets_limit, time_warp_mode, time_correction, debug_compiled,
            build_type, driver_version, nif_version, heap_type, endian],
    [out("sys." ++ atom_to_list(K), erlang:system_info(K)) || K <- Keys],
    out("sys.os_type", os:type()),
    out("sys.os_version", os:version()),
    out("sys.node", node()),
    out("sys.hostname", inet:gethostname()),
    out("sys.net_hostname", catch net:gethostname()),
    out("sys.env", [{V, os:getenv(V)} || V <- ["EMU", "PROGNAME", "HOME", "TYN_NO_SUCH_VARIABLE"]]),
    out("sys.putenv", {os:putenv("TYN_EXERCISE", "set"), os:getenv("TYN_EXERCISE")}),
    out("sys.applications", lists:sort([A || {A, _, _} <- application:which_applications()])),
    out("sys.root_dir_tail", filename:basename(code:root_dir())),
    out("sys.init_args", init:get_plain_arguments()),
    ok.

%% --------------------------------------------------------------- os:cmd and ports

ports() ->
    %% os:cmd turns open_port's error into badarg, with the reason as the cause.
    out("port.os_cmd", try os:cmd("echo hello") of
                           Output -> {ok, Output}
                       catch Class:Reason:St -> {Class, error_tag(Reason), error_cause(St)}
                       end),
    %% The image's PATH has no /bin: the command's own (Linux) PATH finds echo under hostrun.
    Env = [{"PATH", "/bin:/usr/bin"}],
    out("port.open_spawn", try open_port({spawn, "echo port"}, [exit_status, binary, {env, Env}]) of
                               Port -> {ok, port_result(Port, [])}
                           catch PClass:PReason -> {PClass, error_tag(PReason)}
                           end),
    out("port.still_running", is_process_alive(self())),
    ok.

port_result(Port, Acc) ->
    receive
        {Port, {data, D}} -> port_result(Port, [D | Acc]);
        {Port, {exit_status, S}} -> {iolist_to_binary(lists:reverse(Acc)), S}
    after 5000 -> timeout
    end.

error_cause([{_, _, _, Info} | _]) ->
    maps:get(cause, proplists:get_value(error_info, Info, #{}), none);
error_cause(_) -> none.

error_tag(Reason) when is_tuple(Reason) -> element(1, Reason);
error_tag(Reason) -> Reason.
