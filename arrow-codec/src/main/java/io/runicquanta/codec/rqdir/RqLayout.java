package io.runicquanta.codec.rqdir;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.runicquanta.codec.InvalidOtiException;
import io.runicquanta.codec.LayoutFormatException;
import io.runicquanta.codec.Oti;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The RQ library's {@code _raptorq_layout.json}: the blocks of an encoded file. {@link #write}
 * produces the library's exact bytes (serde_json's pretty printer: two-space indent, {@code ": "}
 * after keys, one array element per line, no trailing newline); {@link #read} accepts that format
 * and the library's older single-object form ({@code "blocks": null} with top-level {@code
 * encoder_parameters} and {@code symbols}), and checks every field. Immutable.
 *
 * @param blocks the blocks in file order, contiguous from offset 0
 */
public record RqLayout(List<RqBlockLayout> blocks) {
  /** The layout's file name inside an encoded directory. */
  public static final String FILE_NAME = "_raptorq_layout.json";

  private static final ObjectMapper JSON = new ObjectMapper();

  public RqLayout {
    blocks = List.copyOf(blocks);
  }

  /** Total bytes of the original file (sum of block sizes). */
  public long totalSize() {
    long s = 0;
    for (RqBlockLayout b : blocks) {
      s += b.size();
    }
    return s;
  }

  /** Total number of symbol files listed. */
  public long totalSymbols() {
    long s = 0;
    for (RqBlockLayout b : blocks) {
      s += b.symbols().size();
    }
    return s;
  }

  /**
   * Writes the JSON to {@code file} atomically (a temporary file in the same directory, then a
   * rename), so a reader never sees a half-written layout.
   *
   * @throws IOException on a write failure (the temporary file is removed)
   */
  public void write(Path file) throws IOException {
    Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
    boolean ok = false;
    try (Writer w =
        new BufferedWriter(
            new OutputStreamWriter(Files.newOutputStream(tmp), StandardCharsets.UTF_8), 1 << 16)) {
      writeTo(w);
      ok = true;
    } finally {
      if (!ok) {
        Files.deleteIfExists(tmp);
      }
    }
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /** The JSON text, exactly as the RQ library writes it. */
  public String toJson() {
    StringBuilder sb = new StringBuilder();
    try {
      writeTo(sb);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    return sb.toString();
  }

  private void writeTo(Appendable w) throws IOException {
    w.append("{\n  \"blocks\": [");
    for (int b = 0; b < blocks.size(); b++) {
      RqBlockLayout block = blocks.get(b);
      w.append(b == 0 ? "\n" : ",\n");
      w.append("    {\n");
      w.append("      \"block_id\": ").append(Long.toString(block.blockId())).append(",\n");
      w.append("      \"encoder_parameters\": [");
      byte[] oti = block.oti().encode();
      for (int i = 0; i < oti.length; i++) {
        w.append(i == 0 ? "\n" : ",\n").append("        ").append(Integer.toString(oti[i] & 0xFF));
      }
      w.append("\n      ],\n");
      w.append("      \"original_offset\": ").append(Long.toString(block.originalOffset())).append(",\n");
      w.append("      \"size\": ").append(Long.toString(block.size())).append(",\n");
      w.append("      \"symbols\": [");
      List<String> symbols = block.symbols();
      for (int i = 0; i < symbols.size(); i++) {
        w.append(i == 0 ? "\n" : ",\n").append("        \"").append(symbols.get(i)).append('"');
      }
      w.append(symbols.isEmpty() ? "]" : "\n      ]");
      if (block.hash() != null) {
        w.append(",\n      \"hash\": \"").append(block.hash()).append('"');
      }
      w.append("\n    }");
    }
    w.append(blocks.isEmpty() ? "]\n}" : "\n  ]\n}");
  }

  /**
   * Reads and checks a layout file.
   *
   * @throws LayoutFormatException if the file is not valid JSON (truncated, malformed), a field is
   *     missing or of the wrong type, an OTI is invalid or disagrees with the block size, symbol names
   *     are not base58 or repeat, or the blocks are not contiguous from offset 0
   * @throws NoSuchFileException if the file does not exist
   * @throws IOException on a read failure
   */
  public static RqLayout read(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return parse(in, file.toString());
    }
  }

  /**
   * Parses a layout from a stream (see {@link #read}).
   *
   * @param source names the input in error messages
   */
  public static RqLayout parse(InputStream in, String source) throws IOException {
    JsonNode root;
    try {
      root = JSON.readTree(in);
    } catch (JsonProcessingException e) {
      throw new LayoutFormatException(
          source + ": not valid layout JSON (" + e.getOriginalMessage() + " at line "
              + (e.getLocation() == null ? "?" : e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr())
              + ")",
          e);
    }
    if (root == null || root.isMissingNode()) {
      throw new LayoutFormatException(source + ": empty layout file, expected a JSON object");
    }
    if (!root.isObject()) {
      throw new LayoutFormatException(source + ": layout is a JSON " + root.getNodeType() + ", expected an object");
    }
    JsonNode blocksNode = root.get("blocks");
    List<RqBlockLayout> blocks = new ArrayList<>();
    if (blocksNode == null || blocksNode.isNull()) {
      // The library's unchunked form: one object, parameters and symbols at the top level.
      if (root.get("encoder_parameters") == null || root.get("symbols") == null) {
        throw new LayoutFormatException(
            source + ": layout has neither \"blocks\" nor top-level \"encoder_parameters\" and \"symbols\"");
      }
      Oti oti = oti(root.get("encoder_parameters"), source + ": encoder_parameters");
      blocks.add(
          new RqBlockLayout(0, oti, 0, oti.transferLength(), names(root.get("symbols"), source + ": symbols"), null));
    } else {
      if (!blocksNode.isArray()) {
        throw new LayoutFormatException(source + ": \"blocks\" is a " + blocksNode.getNodeType() + ", expected an array");
      }
      if (blocksNode.isEmpty()) {
        throw new LayoutFormatException(source + ": \"blocks\" is empty, expected at least one block");
      }
      long expectedOffset = 0;
      Set<Long> ids = new HashSet<>();
      for (int i = 0; i < blocksNode.size(); i++) {
        String where = source + ": blocks[" + i + "]";
        JsonNode b = blocksNode.get(i);
        if (!b.isObject()) {
          throw new LayoutFormatException(where + " is a " + b.getNodeType() + ", expected an object");
        }
        long id = nonNegative(b, "block_id", where);
        if (!ids.add(id)) {
          throw new LayoutFormatException(where + ": block_id " + id + " appears twice");
        }
        Oti oti = oti(field(b, "encoder_parameters", where), where + ".encoder_parameters");
        long offset = nonNegative(b, "original_offset", where);
        long size = nonNegative(b, "size", where);
        if (size == 0) {
          throw new LayoutFormatException(where + ": size 0, expected at least 1 byte");
        }
        if (oti.transferLength() != size) {
          throw new LayoutFormatException(
              where + ": encoder_parameters say F = " + oti.transferLength() + " bytes but size is " + size);
        }
        if (offset != expectedOffset) {
          throw new LayoutFormatException(
              where + ": original_offset " + offset + ", expected " + expectedOffset
                  + " (blocks must be contiguous from 0)");
        }
        expectedOffset += size;
        List<String> symbols = names(field(b, "symbols", where), where + ".symbols");
        String hash = null;
        JsonNode h = b.get("hash");
        if (h != null && !h.isNull()) {
          if (!h.isTextual() || !Base58.isBase58(h.asText())) {
            throw new LayoutFormatException(where + ".hash = " + h + ", expected a base58 string");
          }
          hash = h.asText();
        }
        blocks.add(new RqBlockLayout(id, oti, offset, size, symbols, hash));
      }
    }
    return new RqLayout(blocks);
  }

  private static JsonNode field(JsonNode obj, String name, String where) {
    JsonNode v = obj.get(name);
    if (v == null || v.isNull()) {
      throw new LayoutFormatException(where + ": missing field \"" + name + "\"");
    }
    return v;
  }

  private static long nonNegative(JsonNode obj, String name, String where) {
    JsonNode v = field(obj, name, where);
    if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < 0) {
      throw new LayoutFormatException(where + "." + name + " = " + v + ", expected a non-negative integer");
    }
    return v.asLong();
  }

  private static Oti oti(JsonNode node, String where) {
    if (!node.isArray() || node.size() != Oti.BYTES) {
      throw new LayoutFormatException(
          where + " = " + abbreviate(node) + ", expected an array of " + Oti.BYTES + " integers 0..255");
    }
    byte[] bytes = new byte[Oti.BYTES];
    for (int i = 0; i < Oti.BYTES; i++) {
      JsonNode v = node.get(i);
      if (!v.isIntegralNumber() || v.asLong() < 0 || v.asLong() > 255) {
        throw new LayoutFormatException(where + "[" + i + "] = " + v + ", expected an integer 0..255");
      }
      bytes[i] = (byte) v.asInt();
    }
    try {
      return Oti.decode(bytes);
    } catch (InvalidOtiException e) {
      throw new LayoutFormatException(where + ": " + e.getMessage(), e);
    }
  }

  private static List<String> names(JsonNode node, String where) {
    if (!node.isArray()) {
      throw new LayoutFormatException(where + " is a " + node.getNodeType() + ", expected an array of names");
    }
    List<String> out = new ArrayList<>(node.size());
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < node.size(); i++) {
      JsonNode v = node.get(i);
      if (!v.isTextual() || !Base58.isBase58(v.asText())) {
        throw new LayoutFormatException(
            where + "[" + i + "] = " + abbreviate(v) + ", expected a base58 symbol name");
      }
      if (!seen.add(v.asText())) {
        throw new LayoutFormatException(where + "[" + i + "]: symbol " + v.asText() + " listed twice");
      }
      out.add(v.asText());
    }
    return out;
  }

  private static String abbreviate(JsonNode v) {
    String s = v.toString();
    return s.length() > 80 ? s.substring(0, 77) + "..." : s;
  }
}
