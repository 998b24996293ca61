//! The in-process TrueConf Bridge emulator (feature `emulator`).

pub(crate) mod world;
