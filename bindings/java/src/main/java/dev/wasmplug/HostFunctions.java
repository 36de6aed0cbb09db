package dev.wasmplug;

import java.util.List;

/** The lambdas host functions are made of; see {@link Engine#defineFunc} and friends. */
public final class HostFunctions {
  private HostFunctions() {}

  /**
   * A host function with numeric parameters and results: gets the arguments as Integer, Long, Float
   * or Double (as declared) and returns one Number per declared result (null or an empty array when
   * there are none). An exception fails the plugin's call with a {@link HostException} carrying
   * its message.
   */
  @FunctionalInterface
  public interface Numeric {
    Number[] call(Number[] args) throws Exception;
  }

  /** A host function taking bytes and returning bytes (null: empty). */
  @FunctionalInterface
  public interface Bytes {
    byte[] call(byte[] input) throws Exception;
  }

  /** A host function taking a string and returning one (null: empty). */
  @FunctionalInterface
  public interface Text {
    String call(String input) throws Exception;
  }

  /**
   * A host function for a component import: gets the arguments as Java values (see {@link Values})
   * and returns the result (null for a function without one), converted to the import's declared
   * result type.
   */
  @FunctionalInterface
  public interface Component {
    Object call(List<Object> args) throws Exception;
  }
}
