/** The transfer engine: registered segments and one-sided READ/WRITE over pluggable transports. */
package io.runicquanta.transfer;
