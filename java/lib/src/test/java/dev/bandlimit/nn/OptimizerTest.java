package dev.bandlimit.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Optimizers against hand-computed float64 updates of PyTorch's formulas, over a few steps with
 * changing gradients; and the learning-rate schedules. The optimizers run in float32, so the
 * tolerance is a few float32 ulps of the values (1e-6 relative).
 */
class OptimizerTest {
    private static final double[] START = {0.5, -1.25, 2.0, 0.0};

    private static double[] gradientAt(int step, double[] p) {
        // Some gradient that depends on the step and the parameter, like a real one.
        double[] g = new double[p.length];
        for (int i = 0; i < p.length; i++) g[i] = Math.sin(step + i) + 0.3 * p[i];
        return g;
    }

    private static void setGrad(Parameter p, double[] g) {
        for (int i = 0; i < g.length; i++) p.grad().set(i, (float) g[i]);
    }

    private static double[] values(Parameter p) {
        double[] out = new double[(int) p.elementCount()];
        for (int i = 0; i < out.length; i++) out[i] = p.data().get(i);
        return out;
    }

    @Test
    void sgdWithMomentumAndWeightDecay() {
        double lr = 0.1, momentum = 0.9, wd = 0.01;
        try (Arena arena = Arena.ofConfined()) {
            Parameter p = param(arena);
            Sgd sgd = new Sgd(List.of(p), lr, momentum, wd);
            double[] ref = START.clone();
            double[] buf = new double[ref.length];
            for (int step = 0; step < 4; step++) {
                double[] g = gradientAt(step, values(p));
                setGrad(p, g);
                sgd.step();
                for (int i = 0; i < ref.length; i++) {
                    double d = g[i] + wd * ref[i];
                    buf[i] = step == 0 ? d : momentum * buf[i] + d;
                    ref[i] -= lr * buf[i];
                }
                assertClose(ref, values(p));
            }
            sgd.zeroGrad();
            assertEquals(0f, p.grad().get(0));
            sgd.close();
        }
    }

    @Test
    void sgdPlain() {
        try (Arena arena = Arena.ofConfined()) {
            Parameter p = param(arena);
            Sgd sgd = new Sgd(List.of(p), 0.5, 0, 0);
            double[] g = gradientAt(0, START);
            setGrad(p, g);
            sgd.step();
            double[] ref = new double[START.length];
            for (int i = 0; i < ref.length; i++) ref[i] = START[i] - 0.5 * g[i];
            assertClose(ref, values(p));
            sgd.setLearningRate(0.25);
            assertEquals(0.25, sgd.learningRate());
            sgd.close();
        }
    }

    @Test
    void adamWithBiasCorrectionAndL2Decay() {
        double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.05;
        try (Arena arena = Arena.ofConfined()) {
            Parameter p = param(arena);
            Adam adam = new Adam(List.of(p), lr, b1, b2, eps, wd);
            double[] ref = START.clone();
            double[] m = new double[ref.length], v = new double[ref.length];
            for (int t = 1; t <= 5; t++) {
                double[] g = gradientAt(t, values(p));
                setGrad(p, g);
                adam.step();
                for (int i = 0; i < ref.length; i++) {
                    double gi = g[i] + wd * ref[i];
                    m[i] = b1 * m[i] + (1 - b1) * gi;
                    v[i] = b2 * v[i] + (1 - b2) * gi * gi;
                    double mHat = m[i] / (1 - Math.pow(b1, t)), vHat = v[i] / (1 - Math.pow(b2, t));
                    ref[i] -= lr * mHat / (Math.sqrt(vHat) + eps);
                }
                assertClose(ref, values(p));
            }
            assertEquals(5, adam.stepCount());
            adam.close();
        }
    }

    @Test
    void closedOptimizerRefusesToStep() {
        try (Arena arena = Arena.ofConfined()) {
            Sgd sgd = new Sgd(List.of(param(arena)), 0.1, 0.9, 0);
            sgd.close();
            sgd.close();
            assertThrows(IllegalStateException.class, sgd::step);
            Adam adam = new Adam(List.of(param(arena)), 0.1);
            adam.close();
            assertThrows(IllegalStateException.class, adam::step);
        }
    }

    @Test
    void schedules() {
        LearningRateSchedule c = LearningRateSchedule.constant(0.05);
        assertEquals(0.05, c.rate(0));
        assertEquals(0.05, c.rate(1000));
        LearningRateSchedule s = LearningRateSchedule.step(0.1, 10, 0.5);
        assertEquals(0.1, s.rate(0), 1e-15);
        assertEquals(0.1, s.rate(9), 1e-15);
        assertEquals(0.05, s.rate(10), 1e-15);
        assertEquals(0.025, s.rate(25), 1e-15);
        LearningRateSchedule cos = LearningRateSchedule.cosine(0.1, 100, 0.001);
        assertEquals(0.1, cos.rate(0), 1e-15);
        assertEquals(0.001 + 0.099 / 2, cos.rate(50), 1e-15);
        assertEquals(0.001 + 0.099 * (1 + Math.cos(Math.PI * 0.25)) / 2, cos.rate(25), 1e-15);
        assertEquals(0.001, cos.rate(100), 1e-15);
        assertEquals(0.001, cos.rate(150), 1e-15);
    }

    /** A parameter holding {@link #START}, living in the test's arena (the optimizer only holds it). */
    private static Parameter param(Arena arena) {
        Parameter p = new Parameter("p", arena, START.length);
        for (int i = 0; i < START.length; i++) p.data().set(i, (float) START[i]);
        return p;
    }

    private static void assertClose(double[] expected, double[] actual) {
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-6 * Math.max(1, Math.abs(expected[i])), "element " + i);
        }
    }

    /**
     * Saved state resumes exactly: 3 steps, the parameters, {@link Optimizer#namedState()} and
     * step count copied out; 3 more steps; then a fresh parameter and optimizer restored from the
     * copies take the same 3 steps and must end bit for bit where the first did.
     */
    @Test
    void savedStateResumesBitForBit() {
        for (String kind : List.of("sgd", "adam")) {
            try (Arena arena = Arena.ofConfined()) {
                Parameter p = param(arena), q = param(arena);
                Optimizer first = optimizer(kind, p), resumed = optimizer(kind, q);
                for (int step = 0; step < 3; step++) {
                    setGrad(p, gradientAt(step, values(p)));
                    first.step();
                }
                float[] weights = p.data().toArray();
                java.util.Map<String, float[]> saved = new java.util.LinkedHashMap<>();
                first.namedState().forEach((name, t) -> saved.put(name, t.toArray()));
                assertEquals(kind.equals("sgd") ? List.of("momentum_buffer.0") : List.of("exp_avg.0", "exp_avg_sq.0"),
                        List.copyOf(saved.keySet()), kind);
                long steps = first.stepCount();
                assertEquals(3, steps, kind);
                for (int step = 3; step < 6; step++) {
                    setGrad(p, gradientAt(step, values(p)));
                    first.step();
                }
                q.data().copyFrom(weights);
                saved.forEach((name, v) -> resumed.namedState().get(name).copyFrom(v));
                resumed.setStepCount(steps);
                for (int step = 3; step < 6; step++) {
                    setGrad(q, gradientAt(step, values(q)));
                    resumed.step();
                }
                org.junit.jupiter.api.Assertions.assertArrayEquals(p.data().toArray(), q.data().toArray(), kind);
                assertThrows(IllegalArgumentException.class, () -> resumed.setStepCount(-1));
                first.close();
                resumed.close();
                assertThrows(IllegalStateException.class, first::namedState);
            }
        }
    }

    private static Optimizer optimizer(String kind, Parameter p) {
        return kind.equals("sgd") ? new Sgd(List.of(p), 0.1, 0.9, 0.01) : new Adam(List.of(p), 0.05, 0.9, 0.99, 1e-8, 0.01);
    }
}
