/**
 * The {@code rq} command line (picocli): {@code rq encode} and {@code rq decode} read and write the
 * RQ library's directory format, {@code rq demo} round-trips a generated file through both with
 * symbol files deleted. Exit codes: 0 success, 1 data error (undecodable, corrupt, inconsistent
 * directory or layout, I/O failure), 2 usage error or bad input (unknown option, missing input,
 * an output that already exists).
 */
package io.runicquanta.cli;
