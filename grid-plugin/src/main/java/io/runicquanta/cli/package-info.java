/** The {@code rq} command line. */
package io.runicquanta.cli;
