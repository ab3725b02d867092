/**
 * The transport SPI of the transfer engine. A {@link io.runicquanta.transfer.spi.TransportProvider}
 * is found with {@link java.util.ServiceLoader} (file {@code
 * META-INF/services/io.runicquanta.transfer.spi.TransportProvider}) and registered by name in a
 * {@link io.runicquanta.transfer.spi.TransportRegistry}, which rejects duplicate names. The engine
 * opens one {@link io.runicquanta.transfer.spi.Transport} with a number of rails, registers every
 * segment with it and hands it single slices (at most the slice size) for one rail at a time;
 * slicing, striping, retries on other rails, byte limits and timeouts stay in the engine.
 *
 * <p>Failure contract for {@link io.runicquanta.transfer.spi.Transport#submit}: a broken rail
 * (connection, endpoint, peer gone, rail closed) completes the slice with {@link
 * io.runicquanta.transfer.RailFailedException}; a request the target refuses completes it with
 * {@link io.runicquanta.transfer.TransferRefusedException}. Nothing else is retried.
 */
package io.runicquanta.transfer.spi;
