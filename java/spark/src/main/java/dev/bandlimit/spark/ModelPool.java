package dev.bandlimit.spark;

import dev.bandlimit.Compression;
import dev.bandlimit.nn.Checkpoint;
import dev.bandlimit.nn.models.Model;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * The models of one executor JVM, built from broadcast weights: a task borrows one for its
 * partition and gives it back at its end, so each task thread running at once has a model (and so
 * convolution plans and workspaces) of its own, and the next task on the executor reuses it
 * instead of rebuilding plans. Models of another broadcast (older weights) are closed when a task
 * of a new one arrives.
 */
final class ModelPool {
    private static final Map<String, ArrayDeque<Model>> IDLE = new HashMap<>();
    private static String current = "";
    private static long built;

    private ModelPool() {}

    /**
     * The pool key of a broadcast and an evaluation compression. Broadcast ids restart with every
     * SparkContext, so the application's id is part of it: a JVM that runs a second application
     * (local mode, tests) must not find the first one's weights.
     */
    static String key(String applicationId, long broadcastId, Compression eval) {
        return applicationId + "/" + broadcastId + "/" + Checkpoint.describe(eval);
    }

    /** A model holding {@code state}, built if none is idle. */
    static Model borrow(String key, ModelSpec spec, ModelState state, Compression eval) {
        synchronized (ModelPool.class) {
            if (!key.equals(current)) {
                for (ArrayDeque<Model> idle : IDLE.values()) idle.forEach(Model::close);
                IDLE.clear();
                current = key;
            }
            ArrayDeque<Model> idle = IDLE.get(key);
            if (idle != null && !idle.isEmpty()) return idle.pop();
            built++;
        }
        Model m = spec.create(state.trainCompression(), eval, state.seed());
        try {
            state.restoreInto(m.network());
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
        return m;
    }

    /** Returns a borrowed model; closed if its broadcast is no longer the current one. */
    static void giveBack(String key, Model m) {
        synchronized (ModelPool.class) {
            if (key.equals(current)) {
                IDLE.computeIfAbsent(key, k -> new ArrayDeque<>()).push(m);
                return;
            }
        }
        m.close();
    }

    /** Models built in this JVM so far (for tests and logs). */
    static synchronized long built() {
        return built;
    }
}
