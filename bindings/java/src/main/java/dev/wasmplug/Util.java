package dev.wasmplug;

import com.sun.jna.Pointer;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** Strings across the boundary and errors to exceptions. */
final class Util {
  private Util() {}

  /** NUL-terminated UTF-8, or null for null. A string holding NUL is refused (C would cut it). */
  static byte[] cstr(String s) {
    if (s == null) return null;
    if (s.indexOf('\0') >= 0) {
      throw new BadInputException("string contains a NUL character: " + quote(s));
    }
    byte[] b = utf8(s);
    byte[] out = new byte[b.length + 1];
    System.arraycopy(b, 0, out, 0, b.length);
    return out;
  }

  /** Strict UTF-8: a lone surrogate is an error, not a '?'. */
  static byte[] utf8(String s) {
    try {
      ByteBuffer bb = StandardCharsets.UTF_8.newEncoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .encode(CharBuffer.wrap(s));
      byte[] out = new byte[bb.remaining()];
      bb.get(out);
      return out;
    } catch (CharacterCodingException e) {
      throw new BadInputException("string is not valid Unicode (lone surrogate): " + quote(s));
    }
  }

  /** Strict UTF-8 decoding; bytes that are not UTF-8 are an ABI error (the plugin's fault). */
  static String fromUtf8(byte[] b) {
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(b)).toString();
    } catch (CharacterCodingException e) {
      throw new AbiException("output is not valid UTF-8", null);
    }
  }

  /** A borrowed NUL-terminated UTF-8 C string, or null for NULL. */
  static String str(long p) {
    if (p == 0) return null;
    return new Pointer(p).getString(0, "UTF-8");
  }

  static byte[] bytes(long p, long len) {
    if (len == 0) return new byte[0];
    if (len > Integer.MAX_VALUE - 8) throw new NoMemoryException("output too large for a Java array");
    return new Pointer(p).getByteArray(0, (int) len);
  }

  /** Throws the exception for `err` (and frees it) when it is not NULL. */
  static void check(long err) {
    if (err != 0) throw take(err);
  }

  /** The exception for a wp_error; frees the error. */
  static WasmplugException take(long err) {
    int kind = Lib.wp_error_get_kind(err);
    String msg = str(Lib.wp_error_get_message(err));
    String bt = str(Lib.wp_error_get_backtrace(err));
    Lib.wp_error_free(err);
    return WasmplugException.of(ErrorKind.fromCode(kind), msg, bt);
  }

  static String quote(String s) {
    String t = s.length() > 60 ? s.substring(0, 60) + "..." : s;
    return "\"" + t.replace("\0", "\\0") + "\"";
  }

  /** A new wp_error of `kind` holding `message`, handed to C (which frees it). */
  static long newError(ErrorKind kind, String message) {
    byte[] m = utf8(message == null ? "" : message.replace('\0', ' '));
    byte[] z = new byte[m.length + 1];
    System.arraycopy(m, 0, z, 0, m.length);
    return Pointer.nativeValue(Lib.VARIADIC.wp_error_new(kind.code(), "%s", (Object) z));
  }
}
