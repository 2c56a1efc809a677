//! tradescan integration tests: they run the built `tradescan` binary and the engine on
//! generated data and on fixtures written with other physical types.
