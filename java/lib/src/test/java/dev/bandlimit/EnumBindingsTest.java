package dev.bandlimit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.bandlimit.internal.ffm.BandlimitH;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.ToIntFunction;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Ties each Java enum to its C enum in include/bandlimit.h, through the generated bindings: every
 * constant of the C enum (the {@code BL_<PREFIX>*} constants jextract generated) has exactly
 * one Java constant with the same name and value, and every Java constant has a C one. A value
 * or a constant added on one side only fails here.
 */
class EnumBindingsTest {

    static Stream<Arguments> enums() {
        return Stream.of(
                tie("BL_ERR_", Status.class, s -> s == Status.OK ? "BL_OK" : "BL_ERR_" + s.name(), Status::code,
                        Map.of("BL_OK", 0)),
                tie("BL_BACKEND_", Backend.class, b -> "BL_BACKEND_" + b.name(), Backend::code, Map.of()),
                tie("BL_MEMORY_", BufferMemory.class, m -> "BL_MEMORY_" + m.name(), BufferMemory::code, Map.of()),
                tie("BL_CPU_PATH_", Bandlimit.CpuPath.class, p -> "BL_CPU_PATH_" + p.name(), Bandlimit.CpuPath::code,
                        Map.of()),
                tie("BL_PASS_", Pass.class, p -> "BL_PASS_" + p.name(), p -> p.code, Map.of()),
                tie("BL_SPECTRA_", SpectraMode.class, m -> "BL_SPECTRA_" + m.name(), m -> m.code, Map.of()),
                tie("BL_PRODUCT_", Product.class, p -> "BL_PRODUCT_" + p.name(), p -> p.code, Map.of()),
                tie("BL_METHOD_", ConvMethod.class, m -> "BL_METHOD_" + m.name(), m -> m.code, Map.of()));
    }

    private static <E extends Enum<E>> Arguments tie(String prefix, Class<E> type, Function<E, String> cName,
            ToIntFunction<E> code, Map<String, Integer> extraC) {
        TreeMap<String, Integer> fromJava = new TreeMap<>();
        for (E e : type.getEnumConstants()) fromJava.put(cName.apply(e), code.applyAsInt(e));
        TreeMap<String, Integer> fromC = new TreeMap<>(extraC);
        fromC.putAll(bindingConstants(prefix));
        return Arguments.of(type.getSimpleName(), fromJava, fromC);
    }

    /** The int constants BL_PREFIX*() of the generated header class. */
    private static Map<String, Integer> bindingConstants(String prefix) {
        TreeMap<String, Integer> out = new TreeMap<>();
        for (Method m : BandlimitH.class.getMethods()) {
            if (!m.getName().startsWith(prefix) || m.getParameterCount() != 0 || m.getReturnType() != int.class
                    || !Modifier.isStatic(m.getModifiers())) continue;
            try {
                out.put(m.getName(), (Integer) m.invoke(null));
            } catch (ReflectiveOperationException e) {
                throw new AssertionError(m.getName(), e);
            }
        }
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("enums")
    void javaEnumMatchesTheCEnum(String name, Map<String, Integer> fromJava, Map<String, Integer> fromC) {
        assertTrue(fromC.size() >= 2, name + ": the bindings have no constants for it: " + fromC);
        assertEquals(fromC, fromJava, name + ": Java constants (left: C) differ from the C enum");
    }
}
