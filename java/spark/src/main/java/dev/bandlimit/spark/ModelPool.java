package dev.bandlimit.spark;

import dev.bandlimit.Compression;
import dev.bandlimit.nn.Checkpoint;
import dev.bandlimit.nn.models.Model;
import java.util.ArrayDeque;

/**
 * The models of one executor JVM, built from broadcast weights: a task borrows one for its
 * partition and gives it back at its end, so each task thread running at once has a model (and so
 * convolution plans and workspaces) of its own, and the next task on the executor reuses it
 * instead of rebuilding plans. Models of another broadcast (older weights) are closed when a task
 * of a new one arrives.
 */
final class ModelPool {
    /** Idle models of the current key only: a new key closes them all. */
    private static final ArrayDeque<Model> IDLE = new ArrayDeque<>();
    private static String current = "";

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
                IDLE.forEach(Model::close);
                IDLE.clear();
                current = key;
            }
            if (!IDLE.isEmpty()) return IDLE.pop();
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
                IDLE.push(m);
                return;
            }
        }
        m.close();
    }
}
