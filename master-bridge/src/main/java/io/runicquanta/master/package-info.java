/** The master service: segment registry, coded placement and object lifecycle, kept in Ignite. */
package io.runicquanta.master;
