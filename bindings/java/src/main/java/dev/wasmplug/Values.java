package dev.wasmplug;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.lang.reflect.RecordComponent;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * How Component Model values map to Java, both ways (calls through {@link Instance#invoke} and
 * component host functions):
 *
 * <table>
 *   <caption>WIT to Java</caption>
 *   <tr><th>WIT</th><th>Java result</th><th>accepted as argument</th></tr>
 *   <tr><td>bool</td><td>Boolean</td><td>Boolean</td></tr>
 *   <tr><td>s8 s16 s32 u8 u16</td><td>Integer</td><td>any integral Number in range</td></tr>
 *   <tr><td>u32 s64</td><td>Long</td><td>any integral Number in range</td></tr>
 *   <tr><td>u64</td><td>Long (the 64 bits: use Long.toUnsignedString)</td><td>Long (bits) or
 *       BigInteger 0..2^64-1</td></tr>
 *   <tr><td>f32 / f64</td><td>Float / Double</td><td>any Number</td></tr>
 *   <tr><td>char</td><td>String of one code point</td><td>that, a Character or an Integer code
 *       point</td></tr>
 *   <tr><td>string</td><td>String</td><td>CharSequence</td></tr>
 *   <tr><td>list&lt;u8&gt;</td><td>byte[]</td><td>byte[] or a List of numbers</td></tr>
 *   <tr><td>list&lt;T&gt;, tuple</td><td>List</td><td>List, Collection or array</td></tr>
 *   <tr><td>record</td><td>Map&lt;String, Object&gt; (field order)</td><td>Map, or a Java record
 *       (component vS8 is field v-s8)</td></tr>
 *   <tr><td>variant</td><td>{@link Variant}</td><td>Variant</td></tr>
 *   <tr><td>enum</td><td>String (the case)</td><td>String, or a Java enum (RED_ALERT is
 *       red-alert)</td></tr>
 *   <tr><td>option</td><td>Optional</td><td>Optional; null is none, any other value is some</td></tr>
 *   <tr><td>result</td><td>{@link Result}</td><td>Result</td></tr>
 *   <tr><td>flags</td><td>Set&lt;String&gt;</td><td>a Collection of names</td></tr>
 * </table>
 *
 * Resource handles are not supported by this binding. A value that does not fit its type is a
 * {@link BadInputException} naming where it is.
 */
public final class Values {
  private Values() {}

  /* wp_type_kind */
  static final int BOOL = 0, S8 = 1, U8 = 2, S16 = 3, U16 = 4, S32 = 5, U32 = 6, S64 = 7, U64 = 8,
      F32 = 9, F64 = 10, CHAR = 11, STRING = 12, LIST = 13, RECORD = 14, TUPLE = 15, VARIANT = 16,
      ENUM = 17, OPTION = 18, RESULT = 19, FLAGS = 20;

  private static final BigInteger U64_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

  /** The Java value of a wp_value (borrowed); null for NULL. */
  static Object toJava(long v) {
    return toJava(v, 0);
  }

  /**
   * As {@link #toJava(long)}, guided by the value's WIT type when known (not 0): an empty
   * list&lt;u8&gt; is then a byte[] too.
   */
  static Object toJava(long v, long type) {
    if (v == 0) return null;
    int kind = Lib.wp_value_get_kind(v);
    if (type != 0 && Lib.wp_type_get_kind(type) != kind) type = 0;
    switch (kind) {
      case BOOL: return Lib.wp_value_get_bool(v);
      case S8: case S16: case S32: return (int) Lib.wp_value_get_int(v);
      case U8: case U16: return (int) Lib.wp_value_get_uint(v);
      case S64: return Lib.wp_value_get_int(v);
      case U32: case U64: return Lib.wp_value_get_uint(v);
      case F32: return Lib.wp_value_get_f32(v);
      case F64: return Lib.wp_value_get_f64(v);
      case CHAR: return new String(Character.toChars(Lib.wp_value_get_char(v)));
      case STRING: {
        long[] len = new long[1];
        long p = Lib.wp_value_get_string(v, len);
        return new String(Util.bytes(p, len[0]), java.nio.charset.StandardCharsets.UTF_8);
      }
      case LIST: case TUPLE: {
        long n = Lib.wp_value_get_count(v);
        long elem = kind == LIST && type != 0 ? Lib.wp_type_get_child(type, 0) : 0;
        boolean bytes = kind == LIST && (elem != 0 ? Lib.wp_type_get_kind(elem) == U8
            : n > 0 && Lib.wp_value_get_kind(Lib.wp_value_get_item(v, 0)) == U8);
        if (bytes) {
          // One copy of the value's buffer (a list<u8> is held as one); item
          // by item only for a list built some other way.
          long[] len = new long[1];
          long p = Lib.wp_value_get_bytes(v, len);
          if (p != 0 && len[0] == n) return Util.bytes(p, n);
          byte[] b = new byte[(int) n];
          for (int i = 0; i < n; i++) b[i] = (byte) Lib.wp_value_get_uint(Lib.wp_value_get_item(v, i));
          return b;
        }
        List<Object> out = new ArrayList<>((int) n);
        for (long i = 0; i < n; i++) {
          long t = kind == LIST ? elem : type != 0 ? Lib.wp_type_get_child(type, i) : 0;
          out.add(toJava(Lib.wp_value_get_item(v, i), t));
        }
        return Collections.unmodifiableList(out);
      }
      case RECORD: {
        long n = Lib.wp_value_get_count(v);
        Map<String, Object> out = new LinkedHashMap<>();
        for (long i = 0; i < n; i++) {
          String name = Util.str(Lib.wp_value_get_name(v, i));
          out.put(name, toJava(Lib.wp_value_get_item(v, i), childNamed(type, name)));
        }
        return Collections.unmodifiableMap(out);
      }
      case VARIANT: {
        String c = Util.str(Lib.wp_value_get_case(v));
        return new Variant(c, toJava(Lib.wp_value_get_payload(v), childNamed(type, c)));
      }
      case ENUM:
        return Util.str(Lib.wp_value_get_case(v));
      case OPTION: {
        long p = Lib.wp_value_get_payload(v);
        long t = type != 0 ? Lib.wp_type_get_child(type, 0) : 0;
        return "some".equals(Util.str(Lib.wp_value_get_case(v))) ? Optional.of(toJava(p, t)) : Optional.empty();
      }
      case RESULT: {
        boolean ok = "ok".equals(Util.str(Lib.wp_value_get_case(v)));
        Object p = toJava(Lib.wp_value_get_payload(v), type != 0 ? Lib.wp_type_get_child(type, ok ? 0 : 1) : 0);
        return ok ? Result.ok(p) : Result.err(p);
      }
      case FLAGS: {
        long n = Lib.wp_value_get_count(v);
        Set<String> out = new LinkedHashSet<>();
        for (long i = 0; i < n; i++) out.add(Util.str(Lib.wp_value_get_name(v, i)));
        return Collections.unmodifiableSet(out);
      }
      default:
        throw new BadInputException("values of WIT kind " + kind + " (resources) are not supported"
            + " by the Java binding");
    }
  }

  /** The child type named `name` of a record or variant type; 0 when unknown. */
  private static long childNamed(long type, String name) {
    if (type == 0) return 0;
    long n = Lib.wp_type_get_count(type);
    for (long i = 0; i < n; i++) {
      if (name.equals(Util.str(Lib.wp_type_get_name(type, i)))) return Lib.wp_type_get_child(type, i);
    }
    return 0;
  }

  private static BadInputException bad(String where, long type, Object o, String why) {
    String t = type == 0 ? "?" : Util.str(Lib.wp_type_to_string(type));
    String got = o == null ? "null" : o.getClass().getSimpleName() + " " + preview(o);
    return new BadInputException(where + ": expected " + t + ", got " + got + (why == null ? "" : " (" + why + ")"));
  }

  private static String preview(Object o) {
    String s = o instanceof byte[] ? Arrays.toString((byte[]) o) : String.valueOf(o);
    return s.length() > 80 ? s.substring(0, 80) + "..." : s;
  }

  private static long integral(long type, Object o, String where, long min, long max) {
    if (o instanceof Long || o instanceof Integer || o instanceof Short || o instanceof Byte) {
      long x = ((Number) o).longValue();
      if (x < min || x > max) throw bad(where, type, o, "out of range");
      return x;
    }
    if (o instanceof BigInteger) {
      BigInteger b = (BigInteger) o;
      if (b.compareTo(BigInteger.valueOf(min)) < 0 || b.compareTo(BigInteger.valueOf(max)) > 0) {
        throw bad(where, type, o, "out of range");
      }
      return b.longValue();
    }
    throw bad(where, type, o, null);
  }

  private static long nonNull(long v) {
    if (v == 0) throw new NoMemoryException("out of memory making a value");
    return v;
  }

  private static List<?> items(Object o) {
    if (o instanceof List) return (List<?>) o;
    if (o instanceof Collection) return new ArrayList<>((Collection<?>) o);
    if (o instanceof Object[]) return Arrays.asList((Object[]) o);
    return null;
  }

  /** A new wp_value (owned by the caller) of WIT type `type` from a Java value. */
  static long fromJava(long type, Object o, String where) {
    int kind = Lib.wp_type_get_kind(type);
    switch (kind) {
      case BOOL:
        if (!(o instanceof Boolean)) throw bad(where, type, o, null);
        return nonNull(Lib.wp_value_new_bool((Boolean) o));
      case S8: return nonNull(Lib.wp_value_new_s8((byte) integral(type, o, where, -128, 127)));
      case U8: return nonNull(Lib.wp_value_new_u8((byte) integral(type, o, where, 0, 255)));
      case S16: return nonNull(Lib.wp_value_new_s16((short) integral(type, o, where, -32768, 32767)));
      case U16: return nonNull(Lib.wp_value_new_u16((short) integral(type, o, where, 0, 65535)));
      case S32:
        return nonNull(Lib.wp_value_new_s32((int) integral(type, o, where, Integer.MIN_VALUE, Integer.MAX_VALUE)));
      case U32: return nonNull(Lib.wp_value_new_u32((int) integral(type, o, where, 0, 0xffffffffL)));
      case S64: return nonNull(Lib.wp_value_new_s64(integral(type, o, where, Long.MIN_VALUE, Long.MAX_VALUE)));
      case U64: {
        long bits;
        if (o instanceof BigInteger) {
          BigInteger b = (BigInteger) o;
          if (b.signum() < 0 || b.compareTo(U64_MAX) > 0) throw bad(where, type, o, "out of range");
          bits = b.longValue();
        } else {
          bits = integral(type, o, where, Long.MIN_VALUE, Long.MAX_VALUE);
        }
        return nonNull(Lib.wp_value_new_u64(bits));
      }
      case F32:
        if (!(o instanceof Number)) throw bad(where, type, o, null);
        return nonNull(Lib.wp_value_new_f32(((Number) o).floatValue()));
      case F64:
        if (!(o instanceof Number)) throw bad(where, type, o, null);
        return nonNull(Lib.wp_value_new_f64(((Number) o).doubleValue()));
      case CHAR: {
        int cp;
        if (o instanceof Character) cp = (Character) o;
        else if (o instanceof Integer) cp = (Integer) o;
        else if (o instanceof String && ((String) o).codePointCount(0, ((String) o).length()) == 1) {
          cp = ((String) o).codePointAt(0);
        } else throw bad(where, type, o, "one code point");
        if (cp < 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
          throw bad(where, type, o, "not a Unicode scalar value");
        }
        return nonNull(Lib.wp_value_new_char(cp));
      }
      case STRING: {
        if (!(o instanceof CharSequence)) throw bad(where, type, o, null);
        byte[] b = Util.utf8(o.toString());
        return nonNull(Lib.wp_value_new_string_n(b, b.length));
      }
      case LIST: {
        long elem = Lib.wp_type_get_child(type, 0);
        if (o instanceof byte[] && Lib.wp_type_get_kind(elem) == U8) {
          byte[] b = (byte[]) o;
          return nonNull(Lib.wp_value_new_bytes(b, b.length));
        }
        List<?> l = items(o);
        if (l == null) throw bad(where, type, o, null);
        long[] vals = children(l.size(), i -> fromJava(elem, l.get(i), where + "[" + i + "]"));
        return nonNull(Lib.wp_value_new_list(vals, vals.length));
      }
      case TUPLE: {
        List<?> l = items(o);
        long n = Lib.wp_type_get_count(type);
        if (l == null || l.size() != n) throw bad(where, type, o, n + " elements");
        long[] vals = children((int) n,
            i -> fromJava(Lib.wp_type_get_child(type, i), l.get(i), where + "[" + i + "]"));
        return nonNull(Lib.wp_value_new_tuple(vals, vals.length));
      }
      case RECORD: {
        Map<String, Object> m = fields(o);
        if (m == null) throw bad(where, type, o, null);
        int n = (int) Lib.wp_type_get_count(type);
        String[] names = new String[n];
        for (int i = 0; i < n; i++) {
          names[i] = Util.str(Lib.wp_type_get_name(type, i));
          if (!m.containsKey(names[i])) throw bad(where, type, o, "no field " + names[i]);
        }
        if (m.size() != n) {
          Set<String> extra = new LinkedHashSet<>(m.keySet());
          extra.removeAll(Arrays.asList(names));
          throw bad(where, type, o, "unknown fields " + extra);
        }
        long[] vals = children(n, i -> fromJava(Lib.wp_type_get_child(type, i), m.get(names[i]),
            where + "." + names[i]));
        Memory[] keep = new Memory[n];
        Memory arr = new Memory(8L * Math.max(n, 1));
        for (int i = 0; i < n; i++) {
          keep[i] = cmem(names[i]);
          arr.setPointer(8L * i, keep[i]);
        }
        return nonNull(Lib.wp_value_new_record(Pointer.nativeValue(arr), vals, n));
      }
      case VARIANT: {
        if (!(o instanceof Variant)) throw bad(where, type, o, null);
        Variant v = (Variant) o;
        int n = (int) Lib.wp_type_get_count(type);
        for (int i = 0; i < n; i++) {
          if (!v.name().equals(Util.str(Lib.wp_type_get_name(type, i)))) continue;
          long pt = Lib.wp_type_get_child(type, i);
          if (pt == 0 && v.value() != null) throw bad(where, type, o, "case " + v.name() + " has no payload");
          long payload = pt == 0 ? 0 : fromJava(pt, v.value(), where + "." + v.name());
          return nonNull(Lib.wp_value_new_variant(Util.cstr(v.name()), payload));
        }
        throw bad(where, type, o, "no case " + v.name());
      }
      case ENUM: {
        String c = o instanceof Enum ? ((Enum<?>) o).name().toLowerCase().replace('_', '-')
            : o instanceof String ? (String) o : null;
        if (c == null) throw bad(where, type, o, null);
        int n = (int) Lib.wp_type_get_count(type);
        for (int i = 0; i < n; i++) {
          if (c.equals(Util.str(Lib.wp_type_get_name(type, i)))) {
            return nonNull(Lib.wp_value_new_enum(Util.cstr(c)));
          }
        }
        throw bad(where, type, o, "no case " + c);
      }
      case OPTION: {
        Object inner = o;
        if (o instanceof Optional) inner = ((Optional<?>) o).orElse(null);
        if (inner == null) return nonNull(Lib.wp_value_new_none());
        return nonNull(Lib.wp_value_new_some(fromJava(Lib.wp_type_get_child(type, 0), inner, where + ".some")));
      }
      case RESULT: {
        if (!(o instanceof Result)) throw bad(where, type, o, null);
        Result r = (Result) o;
        long pt = Lib.wp_type_get_child(type, r.isOk() ? 0 : 1);
        if (pt == 0 && r.value() != null) throw bad(where, type, o, "that case has no payload");
        long payload = pt == 0 ? 0 : fromJava(pt, r.value(), where + (r.isOk() ? ".ok" : ".err"));
        return nonNull(r.isOk() ? Lib.wp_value_new_ok(payload) : Lib.wp_value_new_err(payload));
      }
      case FLAGS: {
        if (!(o instanceof Collection)) throw bad(where, type, o, null);
        Set<String> known = new LinkedHashSet<>();
        for (long i = 0; i < Lib.wp_type_get_count(type); i++) known.add(Util.str(Lib.wp_type_get_name(type, i)));
        List<String> names = new ArrayList<>();
        for (Object f : (Collection<?>) o) {
          if (!(f instanceof String) || !known.contains(f)) throw bad(where, type, o, "no flag " + f);
          names.add((String) f);
        }
        Memory[] keep = new Memory[names.size()];
        Memory arr = new Memory(8L * Math.max(names.size(), 1));
        for (int i = 0; i < keep.length; i++) {
          keep[i] = cmem(names.get(i));
          arr.setPointer(8L * i, keep[i]);
        }
        return nonNull(Lib.wp_value_new_flags(Pointer.nativeValue(arr), keep.length));
      }
      default:
        throw bad(where, type, o, "resources and async types are not supported by the Java binding");
    }
  }

  private static Memory cmem(String s) {
    byte[] b = Util.cstr(s);
    Memory m = new Memory(b.length);
    m.write(0, b, 0, b.length);
    return m;
  }

  private interface Child {
    long make(int i);
  }

  /** Makes n child values; on a failure frees those made and rethrows. */
  private static long[] children(int n, Child make) {
    long[] vals = new long[n];
    int i = 0;
    try {
      for (; i < n; i++) vals[i] = make.make(i);
      return vals;
    } catch (RuntimeException e) {
      for (int j = 0; j < i; j++) Lib.wp_value_free(vals[j]);
      throw e;
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> fields(Object o) {
    if (o instanceof Map) {
      Map<String, Object> m = new LinkedHashMap<>();
      for (Map.Entry<?, ?> e : ((Map<?, ?>) o).entrySet()) m.put(String.valueOf(e.getKey()), e.getValue());
      return m;
    }
    if (o != null && o.getClass().isRecord()) {
      Map<String, Object> m = new LinkedHashMap<>();
      for (RecordComponent c : o.getClass().getRecordComponents()) {
        try {
          c.getAccessor().setAccessible(true);
          m.put(kebab(c.getName()), c.getAccessor().invoke(o));
        } catch (ReflectiveOperationException | RuntimeException e) {
          throw new BadInputException("cannot read record component " + c.getName() + ": " + e);
        }
      }
      return m;
    }
    return null;
  }

  /** vS8 to v-s8, fooBar to foo-bar. */
  static String kebab(String camel) {
    StringBuilder b = new StringBuilder();
    for (char c : camel.toCharArray()) {
      if (Character.isUpperCase(c)) b.append('-').append(Character.toLowerCase(c));
      else b.append(c);
    }
    return b.toString();
  }

  /** Equality that compares byte[] by content, for values from {@link #toJava}. */
  static boolean deepEquals(Object a, Object b) {
    return Arrays.deepEquals(new Object[] {a}, new Object[] {b});
  }
}
