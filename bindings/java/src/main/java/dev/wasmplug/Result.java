package dev.wasmplug;

import java.util.Objects;

/** A WIT {@code result<T, E>}: ok or err, each with a payload or null. */
public final class Result {
  private final boolean ok;
  private final Object value;

  private Result(boolean ok, Object value) {
    this.ok = ok;
    this.value = value;
  }

  public static Result ok(Object value) {
    return new Result(true, value);
  }

  public static Result err(Object value) {
    return new Result(false, value);
  }

  public boolean isOk() {
    return ok;
  }

  public boolean isErr() {
    return !ok;
  }

  /** The payload of either case (null when the case has none). */
  public Object value() {
    return value;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof Result)) return false;
    Result r = (Result) o;
    return ok == r.ok && Values.deepEquals(value, r.value);
  }

  @Override
  public int hashCode() {
    return Objects.hash(ok, value instanceof byte[] ? java.util.Arrays.hashCode((byte[]) value) : value);
  }

  @Override
  public String toString() {
    return (ok ? "ok(" : "err(") + (value == null ? "" : value) + ")";
  }
}
