// Test of the C# binding under Mono: the numbers of the Python API for the same model, gaze
// and seed, and the exceptions of the error paths.
//
//   mcs -out:GazeHeadTest.exe bindings/csharp/GazeHead.cs bindings/csharp/tests/GazeHeadTest.cs
//   LD_LIBRARY_PATH=<dir of libgazehead.so> mono GazeHeadTest.exe MODEL.safetensors EXPECTED.json [REFUSALS_DIR]
//
// EXPECTED.json is csrc/capi/tests/expected_default_model.json, written from the Python API by
// csrc/capi/tests/make_expected.py (the C test reads the same file). REFUSALS_DIR, when given,
// holds the refusal table of csrc/capi/tests/make_refusals.py, which the Python and C tests
// drive too: every case must throw its exception with the exact message, state unchanged.

using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Threading;
using GazeHead;

public static class GazeHeadTest
{
    // float32 results of the same core; another CPU's kernels may round the last bits differently
    const double Tol = 1e-5;
    static int checks, failures;

    static void Check(bool ok, string what)
    {
        ++checks;
        if (!ok) { ++failures; Console.Error.WriteLine("FAILED: " + what); }
    }

    static void Throws<T>(Action action, string messagePart, string what) where T : Exception
    {
        ++checks;
        try
        {
            action();
            ++failures;
            Console.Error.WriteLine("FAILED: " + what + ": no exception");
        }
        catch (T e)
        {
            if (messagePart != null && e.Message.IndexOf(messagePart, StringComparison.Ordinal) < 0)
            {
                ++failures;
                Console.Error.WriteLine("FAILED: " + what + ": message \"" + e.Message + "\" lacks \"" + messagePart + "\"");
            }
        }
        catch (Exception e)
        {
            ++failures;
            Console.Error.WriteLine("FAILED: " + what + ": " + e.GetType().Name + " instead of " + typeof(T).Name + ": " + e.Message);
        }
    }

    // The numbers of "key": [ ... ] in the expected-values file.
    static double[] Numbers(string json, string key)
    {
        string pattern = "\"" + key + "\":";
        int i = json.IndexOf(pattern, StringComparison.Ordinal);
        if (i < 0) throw new InvalidDataException("expected values: no key " + key);
        i += pattern.Length;
        int open = json.IndexOf('[', i), close = json.IndexOf(']', i);
        var list = new List<double>();
        foreach (string part in json.Substring(open + 1, close - open - 1).Split(','))
        {
            string s = part.Trim();
            if (s.Length > 0) list.Add(double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture));
        }
        return list.ToArray();
    }

    // The string of "key": "..." in the expected-values file (no escapes), or "" if absent.
    static string StringValue(string json, string key)
    {
        string pattern = "\"" + key + "\": \"";
        int i = json.IndexOf(pattern, StringComparison.Ordinal);
        if (i < 0) return "";
        i += pattern.Length;
        return json.Substring(i, json.IndexOf('"', i) - i);
    }

    static float[] Floats(string json, string key)
    {
        double[] d = Numbers(json, key);
        var f = new float[d.Length];
        for (int k = 0; k < d.Length; ++k) f[k] = (float)d[k];
        return f;
    }

    static float[] Slice(float[] a, int start, int count)
    {
        var s = new float[count];
        Array.Copy(a, start, s, 0, count);
        return s;
    }

    static double MaxDiff(float[] a, float[] expected, int offset)
    {
        double worst = 0;
        for (int k = 0; k < a.Length; ++k)
        {
            double d = Math.Abs((double)a[k] - expected[offset + k]);
            if (!(d <= worst)) worst = d;
        }
        return worst;
    }

    static string Fmt(float[] a, int offset)
    {
        return string.Format(CultureInfo.InvariantCulture, "({0:F7}, {1:F7}, {2:F7})", a[offset], a[offset + 1], a[offset + 2]);
    }

    static Generator Make(Model model, int n)
    {
        GeneratorOptions o = Generator.DefaultOptions();
        o.NumAgents = n;
        o.Seed = 7;
        o.Temperature = 0.8f;
        return new Generator(model, o);
    }

    // Four threads step one generator; a generator is used by one thread at a time and nothing
    // waits, so every call either steps or throws GeneratorBusyException (Status.Busy, the
    // library's message). Rounds until a call was refused: the steppers are inside Step nearly
    // all the time, so one round is enough; the cap keeps a failure finite.
    static void SharedGenerator(Model model)
    {
        const int Agents = 16, Threads = 4, Calls = 200;
        int ok = 0, busy = 0, rounds = 0;
        string unexpected = null;
        using (Generator shared = Make(model, Agents))
        {
            float[] gaze = new float[2 * Agents];
            for (int a = 0; a < Agents; ++a) { gaze[2 * a] = 0.2f; gaze[2 * a + 1] = 2.0f * ((a % 3) - 1); }
            while ((busy == 0 || ok == 0) && rounds < 20 && unexpected == null)
            {
                ++rounds;
                var threads = new Thread[Threads];
                for (int t = 0; t < Threads; ++t)
                {
                    threads[t] = new Thread(() =>
                    {
                        float[] h = new float[3 * Agents];
                        for (int i = 0; i < Calls; ++i)
                        {
                            try { shared.Step(gaze, h); Interlocked.Increment(ref ok); }
                            catch (GeneratorBusyException e)
                            {
                                if (e.Status == Status.Busy && e.Message.StartsWith("Generator is being used by another thread", StringComparison.Ordinal))
                                    Interlocked.Increment(ref busy);
                                else unexpected = "GeneratorBusyException " + e.Status + ": " + e.Message;
                            }
                            catch (Exception e) { unexpected = e.GetType().Name + ": " + e.Message; }
                        }
                    });
                    threads[t].Start();
                }
                foreach (Thread t in threads) t.Join();
            }
        }
        Console.WriteLine("shared generator: {0} rounds, {1} steps, {2} refused busy", rounds, ok, busy);
        Check(unexpected == null, "only GeneratorBusyException from a shared generator: " + unexpected);
        Check(ok > 0 && busy > 0, "shared generator: some steps succeeded and some were refused as busy");
        Check(ok + busy == rounds * Threads * Calls || unexpected != null, "every call stepped or was refused");
    }

    // Python float text ("nan", "-nan", "inf", "-inf", "1e+30") as a double.
    static double ParseNumber(string s)
    {
        switch (s)
        {
            case "nan": return double.NaN;
            case "-nan": return BitConverter.Int64BitsToDouble(BitConverter.DoubleToInt64Bits(double.NaN) | long.MinValue);
            case "inf": return double.PositiveInfinity;
            case "-inf": return double.NegativeInfinity;
            default: return double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);
        }
    }

    static void RefusalTable(Model model, string dir)
    {
        int cases = 0;
        foreach (string line in File.ReadAllLines(Path.Combine(dir, "refusals.tsv")))
        {
            if (line.Length == 0) continue;
            string[] col = line.Split('\t');
            if (col.Length != 5) throw new InvalidDataException("refusal table: malformed line " + line);
            string name = col[0], op = col[1], arg = col[2], status = col[3], want = col[4];
            string file = Path.Combine(dir, arg);
            ++cases;
            using (Generator gen = Make(model, 2))
            {
                // make_refusals.py warm_generator(): one step, two updates
                float[] warm = { 0.1f, 0.3f, -0.2f, 0.5f }, head = new float[6], eye = new float[4];
                gen.Step(warm, head, eye);
                gen.Update(warm, 0.0, head, eye);
                gen.Update(warm, 1.0 / 60.0, head, eye);
                byte[] before = gen.SaveState();
                string[] words = arg.Split(' ');
                float[] v = new float[words.Length];
                if (op != "model_file" && op != "state_blob")
                    for (int k = 0; k < words.Length; ++k) v[k] = (float)ParseNumber(words[k]);
                Action call;
                switch (op)
                {
                    case "model_file": call = () => Model.Load(file).Dispose(); want = file + ": " + want; break;
                    case "state_blob": call = () => gen.LoadState(File.ReadAllBytes(file)); break;
                    case "temperature": call = () => gen.SetTemperature(v[0]); break;
                    case "style": call = () => gen.SetStyle(v); break;
                    case "neck_limits": call = () => gen.SetNeckLimits(v); break;
                    case "update_dt": call = () => gen.Update(new float[4], ParseNumber(arg), head, eye); break;
                    case "step_gaze": call = () => gen.Step(v, head, eye); break;
                    case "reset_agent": call = () => gen.Reset(new long[] { long.Parse(arg, CultureInfo.InvariantCulture) }); break;
                    default: throw new InvalidDataException("refusal table: unknown op " + op);
                }
                ++checks;
                Exception got = null;
                try { call(); } catch (Exception e) { got = e; }
                bool kind = status == "MODEL" ? got is ModelException
                          : status == "STATE" ? got is StateException
                          : status == "INVALID_ARGUMENT" ? got is ArgumentException
                          : false;
                if (!kind || got.Message != want)
                {
                    ++failures;
                    Console.Error.WriteLine("FAILED: refusal table, case {0}: {1} \"{2}\"; expected {3} \"{4}\"", name,
                        got == null ? "no exception" : got.GetType().Name, got == null ? "" : got.Message, status, want);
                }
                byte[] after = gen.SaveState();
                bool same = after.Length == before.Length;
                for (int k = 0; same && k < after.Length; ++k) same = after[k] == before[k];
                Check(same, "refusal table, case " + name + ": the generator's state is unchanged");
            }
        }
        Check(cases >= 40, "refusal table: at least 40 cases");
        Console.WriteLine("refusal table: {0} cases", cases);
    }

    public static int Main(string[] args)
    {
        if (args.Length != 2 && args.Length != 3)
        {
            Console.Error.WriteLine("usage: mono GazeHeadTest.exe MODEL.safetensors EXPECTED.json [REFUSALS_DIR]");
            return 2;
        }
        string json = File.ReadAllText(args[1]);
        const int N = 2;
        Library.CheckAbi();
        Check(Library.AbiVersion == Library.BindingAbiVersion, "ABI version");
        Console.WriteLine(Library.BuildInfo);

        using (Model model = Model.Load(args[0]))
        using (Model fromBytes = Model.FromBytes(File.ReadAllBytes(args[0]), "default"))
        {
            ModelInfo info = model.Info;
            string madeFrom = StringValue(json, "model_fnv1a64"), have = info.Fingerprint.ToString("x16");
            if (madeFrom != have)
            {
                // the expected numbers belong to one model file: say so instead of listing differences
                Console.Error.WriteLine("{0} was made from another model file (fingerprint {1}; {2} has {3}): " +
                    "regenerate it with: python csrc/capi/tests/make_expected.py", args[1], madeFrom, args[0], have);
                return 1;
            }
            Check(info.Fps == 30f && info.FormatVersion == 3 && info.HiddenSize > 0 && info.StyleSize == 2, "model info");
            Check(info.Fingerprint == fromBytes.Info.Fingerprint, "file and bytes give the same model");

            // step x10, reset(agent 1), step x4
            float[] gaze = Floats(json, "step_gaze"), headExp = Floats(json, "step_head"), eyeExp = Floats(json, "step_eye");
            float[] head = new float[3 * N], eye = new float[2 * N];
            double worstHead = 0, worstEye = 0;
            using (Generator gen = Make(model, N))
            {
                Check(gen.NumAgents == N && gen.Fps == 30f, "generator properties");
                int T = gaze.Length / (2 * N);
                for (int t = 0; t < T; ++t)
                {
                    gen.Step(Slice(gaze, 2 * N * t, 2 * N), head, eye);
                    worstHead = Math.Max(worstHead, MaxDiff(head, headExp, 3 * N * t));
                    worstEye = Math.Max(worstEye, MaxDiff(eye, eyeExp, 2 * N * t));
                }
                Console.WriteLine("step x{0}   agent 0 head C# {1}  Python {2}  max |diff| head {3:G2} eye {4:G2}",
                                  T, Fmt(head, 0), Fmt(headExp, 3 * N * (T - 1)), worstHead, worstEye);
                Console.WriteLine("           agent 1 head C# {0}  Python {1}", Fmt(head, 3), Fmt(headExp, 3 * N * (T - 1) + 3));
                Check(worstHead <= Tol && worstEye <= Tol, "step numbers equal Python's");

                byte[] before = gen.SaveState();
                // .NET's float.NaN has the sign bit set (C prints it "-nan"); numpy's nan does not
                float nan = BitConverter.ToSingle(BitConverter.GetBytes(0x7FC00000), 0);
                Throws<GazeHeadArgumentException>(() => gen.Step(new float[] { 0.1f, 0.2f, nan, 0.1f }, head, eye),
                    "gaze of agent 1 is not finite (nan, 0.1); pass nan_policy=\"hold\" to keep the last valid gaze", "NaN gaze");
                Throws<ArgumentException>(() => gen.Step(new float[] { 0.1f, 0.2f, 1.7f, 0.1f }, head, eye),
                    "gaze pitch of agent 1 is 1.700000 rad, outside [-pi/2, pi/2]", "pitch out of range");
                Throws<ArgumentException>(() => gen.Step(new float[3], head, eye), "gaze: expected 4 floats (2 agents x 2), got 3", "short gaze");
                Throws<ArgumentException>(() => gen.Step(null, head, eye), "gaze is NULL", "null gaze");
                Throws<ArgumentException>(() => gen.Reset(new long[] { 5 }), "agents: id 5 is out of range for 2 agents (valid 0..1)", "bad agent id");
                Throws<ArgumentException>(() => gen.SetTemperature(-1f), "temperature: expected a finite number >= 0 and <= 10", "temperature");
                Throws<GazeHeadArgumentException>(() => gen.SetStyle(new float[] { 0.8f, 0.5f, 0.3f, nan }),
                    "style: the style of agent 1 is not finite", "non-finite style");
                Throws<GazeHeadArgumentException>(() => gen.SetStyle(new float[] { 0.8f, 0.5f }),
                    "style: expected 4 floats (2 agents x 2), got 2", "short style");
                Throws<GazeHeadArgumentException>(() => gen.SetNeckLimits(new float[] { 0.7f, 3.5f, 0.5f }),
                    "neck_limits: yaw limit 3.5 rad is outside (0, pi) (pitch, yaw, roll half-ranges, radians)", "neck yaw limit");
                Throws<GazeHeadArgumentException>(() => gen.SetNeckLimits(new float[] { 0f, 1.2f, 0.5f }),
                    "neck_limits: pitch limit 0 rad is outside (0, pi/2]", "neck pitch limit");
                Throws<GazeHeadArgumentException>(() => gen.SetNeckLimits(new float[] { 0.7f, 1.2f }),
                    "limits: expected 3 floats (pitch, yaw, roll), got 2", "two limits");
                Check(Convert.ToBase64String(gen.SaveState()) == Convert.ToBase64String(before), "refused calls change nothing");

                gen.Reset(new long[] { (long)Numbers(json, "reset_agents")[0] });
                gaze = Floats(json, "reset_gaze");
                headExp = Floats(json, "reset_head");
                worstHead = 0;
                for (int t = 0; t < gaze.Length / (2 * N); ++t)
                {
                    gen.Step(Slice(gaze, 2 * N * t, 2 * N), head);
                    worstHead = Math.Max(worstHead, MaxDiff(head, headExp, 3 * N * t));
                }
                Console.WriteLine("reset(1) then step x{0}: max |diff| head {1:G2}", gaze.Length / (2 * N), worstHead);
                Check(worstHead <= Tol, "reset numbers equal Python's");
            }

            // update(dt) with jitter, a hitch and yaw across pi
            double[] dts = Numbers(json, "update_dt");
            gaze = Floats(json, "update_gaze");
            headExp = Floats(json, "update_head");
            eyeExp = Floats(json, "update_eye");
            worstHead = worstEye = 0;
            using (Generator gen = Make(model, N))
            {
                for (int k = 0; k < dts.Length; ++k)
                {
                    gen.Update(Slice(gaze, 2 * N * k, 2 * N), dts[k], head, eye);
                    worstHead = Math.Max(worstHead, MaxDiff(head, headExp, 3 * N * k));
                    worstEye = Math.Max(worstEye, MaxDiff(eye, eyeExp, 2 * N * k));
                }
                int K = dts.Length;
                Console.WriteLine("update x{0} agent 1 head C# {1}  Python {2}  max |diff| head {3:G2} eye {4:G2}",
                                  K, Fmt(head, 3), Fmt(headExp, 3 * N * (K - 1) + 3), worstHead, worstEye);
                Check(worstHead <= Tol && worstEye <= Tol, "update numbers equal Python's");
                Throws<ArgumentException>(() => gen.Update(Slice(gaze, 0, 2 * N), -1.0, head, eye),
                    "dt_s must be finite and >= 0 seconds, got -1.0", "negative dt");

                // save, continue, restore, continue: identical
                byte[] blob = gen.SaveState();
                var a = new float[3 * N];
                var b = new float[3 * N];
                for (int t = 0; t < 3; ++t) gen.Step(Slice(gaze, 0, 2 * N), a);
                gen.Update(Slice(gaze, 2 * N, 2 * N), 0.05, a);
                gen.LoadState(blob);
                for (int t = 0; t < 3; ++t) gen.Step(Slice(gaze, 0, 2 * N), b);
                gen.Update(Slice(gaze, 2 * N, 2 * N), 0.05, b);
                Check(MaxDiff(a, b, 0) == 0, "state round trip");
                byte[] corrupt = (byte[])blob.Clone();
                corrupt[corrupt.Length / 2] ^= 0x40;
                Throws<StateException>(() => gen.LoadState(corrupt), "state: checksum mismatch", "corrupted state");
                using (Generator three = Make(model, 3))
                    Throws<StateException>(() => three.LoadState(blob), "state: it holds 2 agents, this generator has 3", "agent count");
                Throws<StateException>(() => gen.SaveState(new byte[4]), "the state needs", "small buffer");

                // the refusals every surface shares (the core's checks; python_tests and
                // test_capi.c hold the same ones): a style that would overflow the network, a
                // temperature over 10, and a saved temperature over 10 behind a valid checksum
                Throws<GazeHeadArgumentException>(() => gen.SetStyle(new float[] { 0.5f, 3e38f, 0.5f, 0.5f }),
                    "style: the style of agent 0 is (0.5, 3e+38), outside [-10, 10]", "huge style");
                Throws<GazeHeadArgumentException>(() => gen.SetTemperature(11f),
                    "temperature: expected a finite number >= 0 and <= 10, got 11.0", "temperature 11");
                byte[] hot = (byte[])blob.Clone();
                BitConverter.GetBytes(11f).CopyTo(hot, 44);  // the temperature field
                ulong sum = 0xcbf29ce484222325UL;  // FNV-1a 64 of all but the last 8 bytes
                for (int k = 0; k < hot.Length - 8; ++k) { sum ^= hot[k]; sum *= 0x100000001b3UL; }
                BitConverter.GetBytes(sum).CopyTo(hot, hot.Length - 8);
                byte[] before = gen.SaveState();
                Throws<StateException>(() => gen.LoadState(hot),
                    "state: temperature: expected a finite number >= 0 and <= 10, got 11.0", "saved temperature 11");
                byte[] after = gen.SaveState();
                Check(before.Length == after.Length && System.Linq.Enumerable.SequenceEqual(before, after),
                    "a refused state changes nothing");
            }

            // styles: the default population draws, then set style and neck limits
            using (Generator gen = Make(model, N))
            {
                float[] style = gen.GetStyle(), styleExp = Floats(json, "default_style");
                float[] limits = gen.GetNeckLimits(), limitsExp = Floats(json, "default_neck_limits");
                Console.WriteLine(string.Format(CultureInfo.InvariantCulture,
                    "default style C# ({0:F7}, {1:F7}) ({2:F7}, {3:F7})  Python ({4:F7}, {5:F7}) ({6:F7}, {7:F7})",
                    style[0], style[1], style[2], style[3], styleExp[0], styleExp[1], styleExp[2], styleExp[3]));
                Check(MaxDiff(style, styleExp, 0) == 0, "default styles equal Python's");
                Check(MaxDiff(limits, limitsExp, 0) == 0 && info.NeckLimitYaw == limitsExp[1], "default neck limits are the model's");
                float[] styleSet = Floats(json, "style_set"), limitsSet = Floats(json, "neck_limits_set");
                gen.SetStyle(styleSet);
                gen.SetNeckLimits(limitsSet);
                Check(MaxDiff(gen.GetStyle(), styleSet, 0) == 0 && MaxDiff(gen.GetNeckLimits(), limitsSet, 0) == 0, "style and limits read back");
                gaze = Floats(json, "style_gaze");
                headExp = Floats(json, "style_head");
                eyeExp = Floats(json, "style_eye");
                worstHead = worstEye = 0;
                int T = gaze.Length / (2 * N);
                byte[] start = gen.SaveState();
                for (int t = 0; t < T; ++t)
                {
                    gen.Step(Slice(gaze, 2 * N * t, 2 * N), head, eye);
                    worstHead = Math.Max(worstHead, MaxDiff(head, headExp, 3 * N * t));
                    worstEye = Math.Max(worstEye, MaxDiff(eye, eyeExp, 2 * N * t));
                }
                Console.WriteLine("style+neck step x{0} agent 0 head C# {1}  Python {2}  max |diff| head {3:G2} eye {4:G2}",
                                  T, Fmt(head, 0), Fmt(headExp, 3 * N * (T - 1)), worstHead, worstEye);
                Check(worstHead <= Tol && worstEye <= Tol, "style and neck-limit numbers equal Python's");
                gen.Reset();
                Check(MaxDiff(gen.GetStyle(), styleSet, 0) == 0, "reset keeps the style");
                gen.SetStyle(styleExp);
                gen.SetNeckLimits(limitsExp);
                gen.LoadState(start);
                Check(MaxDiff(gen.GetStyle(), styleSet, 0) == 0 && MaxDiff(gen.GetNeckLimits(), limitsSet, 0) == 0,
                      "a saved state restores style and neck limits");
            }

            // prime on observed frames, then step
            using (Generator gen = Make(model, N))
            {
                gen.Prime(Floats(json, "prime_gaze_hist"), Floats(json, "prime_head_hist"));
                gaze = Floats(json, "prime_gaze");
                headExp = Floats(json, "prime_head");
                worstHead = 0;
                for (int t = 0; t < gaze.Length / (2 * N); ++t)
                {
                    gen.Step(Slice(gaze, 2 * N * t, 2 * N), head);
                    worstHead = Math.Max(worstHead, MaxDiff(head, headExp, 3 * N * t));
                }
                Console.WriteLine("prime then step x{0}: max |diff| head {1:G2}", gaze.Length / (2 * N), worstHead);
                Check(worstHead <= Tol, "prime numbers equal Python's");
                Throws<ArgumentException>(() => gen.Prime(new float[0], new float[0]), "gaze_hist: the sequence is empty (T = 0)", "empty prime");
            }

            // options and ABI
            GeneratorOptions bad = Generator.DefaultOptions();
            bad.AbiVersion = 99;
            Throws<AbiMismatchException>(() => new Generator(model, bad), "compiled against gazehead ABI version 99", "wrong ABI version");
            Throws<AbiMismatchException>(() => new Generator(model, new GeneratorOptions()), "options are not initialized", "zeroed options");
            bad = Generator.DefaultOptions();
            bad.NumAgents = 0;
            Throws<GazeHeadArgumentException>(() => new Generator(model, bad), "num_agents must be positive", "num_agents 0");
            bad = Generator.DefaultOptions();
            bad.Backend = (Backend)1;
            Throws<GazeHeadNotSupportedException>(() => new Generator(model, bad), "options.backend 1 is not available", "backend");

            // a disposed generator is refused by the marshaller, not used after free
            Generator disposed = Make(model, N);
            disposed.Dispose();
            Throws<ObjectDisposedException>(() => disposed.Step(new float[2 * N], head), null, "disposed generator");

            // threads sharing one generator: each call steps or throws GeneratorBusyException
            SharedGenerator(model);
        }

        // bad model bytes
        Throws<ModelException>(() => Model.FromBytes(new byte[0], "empty"), "empty: file is empty", "empty model");
        Throws<ModelException>(() => Model.FromBytes(new byte[] { 1, 2, 3 }, "junk"),
            "junk: not a readable safetensors file (file is shorter than the 8-byte header length)", "junk model");
        Throws<ModelException>(() => Model.Load("no/such.safetensors"), "no/such.safetensors: no such model file", "missing file");
        {
            // a flipped mantissa bit in a weight (finite, plausible): the integrity hash refuses it
            byte[] flipped = File.ReadAllBytes(args[0]);
            flipped[flipped.Length - 8] ^= 0x01;
            Throws<ModelException>(() => Model.FromBytes(flipped, "flipped"),
                "flipped: metadata 'tensors_sha256' does not match the tensors", "flipped bit");
            byte[] bigHeader = (byte[])flipped.Clone();
            BitConverter.GetBytes((ulong)(32 << 20)).CopyTo(bigHeader, 0);
            Throws<ModelException>(() => Model.FromBytes(bigHeader, "big"),
                "big: not a readable safetensors file (header is 33554432 bytes, over the 1048576 byte cap)",
                "32 MB header");
        }

        if (args.Length == 3)
            using (Model model = Model.Load(args[0])) RefusalTable(model, args[2]);

        Console.WriteLine("{0} checks, {1} failed", checks, failures);
        return failures == 0 ? 0 : 1;
    }
}
