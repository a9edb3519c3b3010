/* main.h — the otasim binary's subcommands. */
#pragma once

int sim_mkimage_main(int argc, char *argv[]);
