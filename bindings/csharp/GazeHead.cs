// GazeHead.cs: C# binding of libgazehead (csrc/capi/include/gazehead/gazehead.h) for Unity and
// other .NET hosts. One file, no dependencies; drop it into a Unity project next to the native
// library (see docs/engines.md).
//
// Written the way a Unity plugin consumes native code:
//  - blittable structs with the exact layout of the C structs (no bool, no managed arrays);
//  - SafeHandle subclasses own the native objects (freed by Dispose or the finalizer);
//  - every status code becomes an exception carrying the library's message, which is the text
//    the Python package raises for the same problem;
//  - the per-frame calls (Step, Update) take caller-owned float[] buffers that the marshaller
//    pins, so a game loop allocates nothing per frame.
// Angles are radians. Arrays are agent-major: gaze [N*2] (pitch, yaw), head [N*3]
// (pitch, yaw, roll), eye [N*2]; sequences time-major [T*N*...].
// Threading: a Model may be shared by any threads; a Generator is used by one thread at a time
// (a call while another thread is inside one throws GeneratorBusyException).

using System;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace GazeHead
{
    /// <summary>Status codes of the C ABI (gazehead_status).</summary>
    public enum Status : int
    {
        Ok = 0,
        InvalidArgument = 1,
        Model = 2,
        AbiMismatch = 3,
        Unsupported = 4,
        BufferTooSmall = 5,
        State = 6,
        IO = 7,
        Internal = 8,
        /// <summary>The generator is in use by another thread; nothing changed.</summary>
        Busy = 9,
    }

    public enum NanPolicy : int
    {
        /// <summary>Non-finite gaze is refused, naming the agent.</summary>
        Raise = 0,
        /// <summary>That agent keeps its last valid gaze.</summary>
        Hold = 1,
    }

    public enum Backend : int
    {
        Cpu = 0,
    }

    /// <summary>gazehead_generator_options. Start from <see cref="Generator.DefaultOptions"/>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct GeneratorOptions
    {
        public uint StructSize;
        public uint AbiVersion;
        public long NumAgents;
        public uint Seed;
        public float Temperature;
        public NanPolicy NanPolicy;
        public int NumThreads;
        public Backend Backend;
        // reserved_i[7], reserved_f[8]: spelled out so the struct stays blittable without unsafe code
        private int reservedI0, reservedI1, reservedI2, reservedI3, reservedI4, reservedI5, reservedI6;
        private float reservedF0, reservedF1, reservedF2, reservedF3, reservedF4, reservedF5, reservedF6, reservedF7;
    }

    /// <summary>gazehead_model_info.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct ModelInfo
    {
        public uint StructSize;
        public int FormatVersion;
        public float Fps;
        public int HiddenSize;
        public int LatentSize;
        public int StyleSize;      // per-agent style values (2: propensity, idle)
        public long NumParameters;
        public ulong Fingerprint;
        // default head-on-torso half-ranges (pitch, yaw, roll), rad; fixed-size fields keep
        // the struct blittable without unsafe code
        public float NeckLimitPitch, NeckLimitYaw, NeckLimitRoll;
        public float NeckSoft;     // the soft zone starts at NeckSoft * limit
        public float EyeLimit;     // the reported eye-in-head is clamped to +-EyeLimit, rad
        public float StyleMeanPropensity, StyleMeanIdle; // population of default styles
        public float StyleStdPropensity, StyleStdIdle;
    }

    /// <summary>Base of the binding's exceptions that are not argument errors.</summary>
    public class GazeHeadException : Exception
    {
        public Status Status { get; private set; }
        public GazeHeadException(Status status, string message) : base(message) { Status = status; }
    }

    /// <summary>A model file or buffer is missing or malformed (GAZEHEAD_ERR_MODEL, _IO).</summary>
    public class ModelException : GazeHeadException
    {
        public ModelException(Status status, string message) : base(status, message) { }
    }

    /// <summary>This binding and the native library disagree on the ABI version.</summary>
    public class AbiMismatchException : GazeHeadException
    {
        public AbiMismatchException(string message) : base(Status.AbiMismatch, message) { }
    }

    /// <summary>A saved state does not fit this generator.</summary>
    public class StateException : GazeHeadException
    {
        public StateException(Status status, string message) : base(status, message) { }
    }

    /// <summary>Bad argument or input (null, wrong size, non-finite gaze, out of range).</summary>
    public class GazeHeadArgumentException : ArgumentException
    {
        public Status Status { get { return Status.InvalidArgument; } }
        public GazeHeadArgumentException(string message) : base(message) { }
    }

    /// <summary>Another thread is inside a call on this generator (GAZEHEAD_ERR_BUSY); this
    /// call changed nothing. A generator is used by one thread at a time.</summary>
    public class GeneratorBusyException : InvalidOperationException
    {
        public Status Status { get { return Status.Busy; } }
        public GeneratorBusyException(string message) : base(message) { }
    }

    /// <summary>Not available in this library or model format.</summary>
    public class GazeHeadNotSupportedException : NotSupportedException
    {
        public GazeHeadNotSupportedException(string message) : base(message) { }
    }

    internal sealed class ModelHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        private ModelHandle() : base(true) { }
        protected override bool ReleaseHandle()
        {
            Native.gazehead_model_free(handle);
            return true;
        }
    }

    internal sealed class GeneratorHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        private GeneratorHandle() : base(true) { }
        protected override bool ReleaseHandle()
        {
            Native.gazehead_generator_free(handle);
            return true;
        }
    }

    internal static class Native
    {
        // "gazehead" resolves to libgazehead.so / gazehead.dll / libgazehead.dylib. Under IL2CPP
        // with a statically linked plugin (iOS) this would be "__Internal".
        private const string Lib = "gazehead";
        private const CallingConvention Cc = CallingConvention.Cdecl;

        [DllImport(Lib, CallingConvention = Cc)] internal static extern int gazehead_abi_version();
        [DllImport(Lib, CallingConvention = Cc)] internal static extern IntPtr gazehead_version();
        [DllImport(Lib, CallingConvention = Cc)] internal static extern IntPtr gazehead_build_info();
        [DllImport(Lib, CallingConvention = Cc)] internal static extern IntPtr gazehead_last_error();

        [DllImport(Lib, CallingConvention = Cc)]
        internal static extern Status gazehead_model_load_file(byte[] pathUtf8, out ModelHandle model);
        [DllImport(Lib, CallingConvention = Cc)]
        internal static extern Status gazehead_model_load_memory(byte[] data, UIntPtr size, byte[] nameUtf8, out ModelHandle model);
        [DllImport(Lib, CallingConvention = Cc)]
        internal static extern Status gazehead_model_get_info(ModelHandle model, ref ModelInfo info);
        [DllImport(Lib, CallingConvention = Cc)] internal static extern void gazehead_model_free(IntPtr model);

        [DllImport(Lib, CallingConvention = Cc)]
        internal static extern Status gazehead_generator_options_init(ref GeneratorOptions options, uint structSize, uint abiVersion);
        [DllImport(Lib, CallingConvention = Cc)]
        internal static extern Status gazehead_generator_create(ModelHandle model, ref GeneratorOptions options, out GeneratorHandle generator);
        [DllImport(Lib, CallingConvention = Cc)] internal static extern void gazehead_generator_free(IntPtr generator);
        [DllImport(Lib, CallingConvention = Cc)]
        internal static extern Status gazehead_generator_num_agents(GeneratorHandle generator, out long numAgents);
        [DllImport(Lib, CallingConvention = Cc)]
        internal static extern Status gazehead_generator_fps(GeneratorHandle generator, out float fps);
        [DllImport(Lib, CallingConvention = Cc)]
        internal static extern Status gazehead_generator_step(GeneratorHandle generator,
            [In] float[] gaze, long gazeCount, [Out] float[] headOut, long headCount, [Out] float[] eyeOut, long eyeCount);
        [DllImport(Lib, CallingConvention = Cc)]
        internal static extern Status gazehead_generator_update(GeneratorHandle generator,
            [In] float[] gaze, long gazeCount, double dtS, [Out] float[] headOut, long headCount, [Out] float[] eyeOut, long eyeCount);
        [DllImport(Lib, CallingConvention = Cc)]
        internal static extern Status gazehead_generator_reset(GeneratorHandle generator, [In] long[] agents, long count);
        [DllImport(Lib, CallingConvention = Cc)]
        internal static extern Status gazehead_generator_prime(GeneratorHandle generator,
            [In] float[] gazeHist, long gazeCount, [In] float[] headHist, long headCount);
        [DllImport(Lib, CallingConvention = Cc)]
        internal static extern Status gazehead_generator_set_temperature(GeneratorHandle generator, float temperature);
        [DllImport(Lib, CallingConvention = Cc)]
        internal static extern Status gazehead_generator_set_seed(GeneratorHandle generator, uint seed);
        [DllImport(Lib, CallingConvention = Cc)]
        internal static extern Status gazehead_generator_set_style(GeneratorHandle generator, [In] float[] style, long styleCount);
        [DllImport(Lib, CallingConvention = Cc)]
        internal static extern Status gazehead_generator_get_style(GeneratorHandle generator, [Out] float[] styleOut, long styleCount);
        [DllImport(Lib, CallingConvention = Cc)]
        internal static extern Status gazehead_generator_set_neck_limits(GeneratorHandle generator, [In] float[] limits);
        [DllImport(Lib, CallingConvention = Cc)]
        internal static extern Status gazehead_generator_get_neck_limits(GeneratorHandle generator, [Out] float[] limitsOut);
        [DllImport(Lib, CallingConvention = Cc)]
        internal static extern Status gazehead_generator_state_size(GeneratorHandle generator, out UIntPtr size);
        [DllImport(Lib, CallingConvention = Cc)]
        internal static extern Status gazehead_generator_save_state(GeneratorHandle generator, [Out] byte[] buffer, UIntPtr size);
        [DllImport(Lib, CallingConvention = Cc)]
        internal static extern Status gazehead_generator_load_state(GeneratorHandle generator, [In] byte[] buffer, UIntPtr size);

        internal static string Utf8(IntPtr p)
        {
            if (p == IntPtr.Zero) return "";
            int n = 0;
            while (Marshal.ReadByte(p, n) != 0) ++n;
            var bytes = new byte[n];
            Marshal.Copy(p, bytes, 0, n);
            return Encoding.UTF8.GetString(bytes);
        }

        internal static byte[] Utf8Z(string s)
        {
            if (s == null) return null;
            var bytes = Encoding.UTF8.GetBytes(s);
            Array.Resize(ref bytes, bytes.Length + 1); // NUL-terminated
            return bytes;
        }

        /// <summary>Throws the exception of a failed status with the thread's last error.</summary>
        internal static void Check(Status status)
        {
            if (status == Status.Ok) return;
            string message = Utf8(gazehead_last_error());
            switch (status)
            {
                case Status.InvalidArgument: throw new GazeHeadArgumentException(message);
                case Status.Model:
                case Status.IO: throw new ModelException(status, message);
                case Status.AbiMismatch: throw new AbiMismatchException(message);
                case Status.Unsupported: throw new GazeHeadNotSupportedException(message);
                case Status.State:
                case Status.BufferTooSmall: throw new StateException(status, message);
                case Status.Busy: throw new GeneratorBusyException(message);
                default: throw new GazeHeadException(status, message);
            }
        }
    }

    /// <summary>The native library: versions and the ABI check.</summary>
    public static class Library
    {
        /// <summary>The ABI version this binding was written for (GAZEHEAD_ABI_VERSION).</summary>
        public const int BindingAbiVersion = 2;

        public static int AbiVersion { get { return Native.gazehead_abi_version(); } }
        public static string Version { get { return Native.Utf8(Native.gazehead_version()); } }
        public static string BuildInfo { get { return Native.Utf8(Native.gazehead_build_info()); } }

        /// <summary>Throws <see cref="AbiMismatchException"/> when the loaded library implements
        /// another ABI version than this binding. Model and Generator call it once.</summary>
        public static void CheckAbi()
        {
            int lib = AbiVersion;
            if (lib != BindingAbiVersion)
                throw new AbiMismatchException(string.Format(
                    "GazeHead.cs was written for gazehead ABI version {0}, the loaded library implements version {1}",
                    BindingAbiVersion, lib));
        }

        internal static void EnsureAbi()
        {
            if (!abiChecked) { CheckAbi(); abiChecked = true; }
        }
        private static volatile bool abiChecked;
    }

    /// <summary>An immutable model, shareable between generators and threads.</summary>
    public sealed class Model : IDisposable
    {
        internal readonly ModelHandle Handle;

        private Model(ModelHandle handle) { Handle = handle; }

        /// <summary>Loads a model file (.safetensors written by gazehead_rt).</summary>
        public static Model Load(string path)
        {
            if (path == null) throw new ArgumentNullException("path");
            Library.EnsureAbi();
            ModelHandle h;
            Native.Check(Native.gazehead_model_load_file(Native.Utf8Z(path), out h));
            return new Model(h);
        }

        /// <summary>Loads a model from bytes (e.g. a Unity TextAsset's bytes); `name` labels
        /// error messages.</summary>
        public static Model FromBytes(byte[] data, string name = null)
        {
            if (data == null) throw new ArgumentNullException("data");
            Library.EnsureAbi();
            ModelHandle h;
            Native.Check(Native.gazehead_model_load_memory(data, (UIntPtr)data.Length, Native.Utf8Z(name), out h));
            return new Model(h);
        }

        public ModelInfo Info
        {
            get
            {
                var info = new ModelInfo { StructSize = (uint)Marshal.SizeOf(typeof(ModelInfo)) };
                Native.Check(Native.gazehead_model_get_info(Handle, ref info));
                return info;
            }
        }

        /// <summary>Generators made from this model keep working after it is disposed.</summary>
        public void Dispose() { Handle.Dispose(); }
    }

    /// <summary>Steps N agents together; used by one thread at a time.</summary>
    public sealed class Generator : IDisposable
    {
        private readonly GeneratorHandle handle;
        private readonly int numAgents;
        private readonly float fps;

        /// <summary>Defaults: 1 agent, seed 0, temperature 1, NanPolicy.Raise, 1 thread.</summary>
        public static GeneratorOptions DefaultOptions()
        {
            Library.EnsureAbi();
            var o = new GeneratorOptions();
            Native.Check(Native.gazehead_generator_options_init(ref o,
                (uint)Marshal.SizeOf(typeof(GeneratorOptions)), (uint)Library.BindingAbiVersion));
            return o;
        }

        public Generator(Model model, GeneratorOptions options)
        {
            if (model == null) throw new ArgumentNullException("model");
            Native.Check(Native.gazehead_generator_create(model.Handle, ref options, out handle));
            long n;
            Native.Check(Native.gazehead_generator_num_agents(handle, out n));
            numAgents = checked((int)n);
            Native.Check(Native.gazehead_generator_fps(handle, out fps));
        }

        public int NumAgents { get { return numAgents; } }
        /// <summary>The model's fixed rate; one Step advances 1/Fps seconds.</summary>
        public float Fps { get { return fps; } }

        /// <summary>One model frame: gaze [N*2] -> headOut [N*3], eyeOut [N*2] (optional).</summary>
        public void Step(float[] gaze, float[] headOut, float[] eyeOut = null)
        {
            Native.Check(Native.gazehead_generator_step(handle, gaze, Len(gaze), headOut, Len(headOut),
                                                        eyeOut, Len(eyeOut)));
        }

        /// <summary>Variable-rate loops: advance the clock by dtS seconds (e.g. Time.deltaTime)
        /// with the gaze now at `gaze`; writes the head interpolated one model frame back and
        /// the current gaze seen from it.</summary>
        public void Update(float[] gaze, double dtS, float[] headOut, float[] eyeOut = null)
        {
            Native.Check(Native.gazehead_generator_update(handle, gaze, Len(gaze), dtS, headOut, Len(headOut),
                                                          eyeOut, Len(eyeOut)));
        }

        /// <summary>New episode for all agents.</summary>
        public void Reset() { Native.Check(Native.gazehead_generator_reset(handle, null, 0)); }

        /// <summary>New episode for some agents.</summary>
        public void Reset(long[] agents)
        {
            if (agents == null) throw new ArgumentNullException("agents");
            Native.Check(Native.gazehead_generator_reset(handle, agents, agents.Length));
        }

        /// <summary>Continue from observed motion: gazeHist [T*N*2], headHist [T*N*3].</summary>
        public void Prime(float[] gazeHist, float[] headHist)
        {
            Native.Check(Native.gazehead_generator_prime(handle, gazeHist, Len(gazeHist), headHist, Len(headHist)));
        }

        public void SetTemperature(float temperature)
        {
            Native.Check(Native.gazehead_generator_set_temperature(handle, temperature));
        }

        public void SetSeed(uint seed) { Native.Check(Native.gazehead_generator_set_seed(handle, seed)); }

        /// <summary>Per-agent style [N*2] (propensity, idle) of every agent; each value must be
        /// finite (checked before any agent changes). Takes effect from the next frame; Reset
        /// keeps it. Agents start with their population draw (the Python API's, for the same
        /// model and seed).</summary>
        public void SetStyle(float[] style)
        {
            Native.Check(Native.gazehead_generator_set_style(handle, style, Len(style)));
        }

        /// <summary>The styles [N*2] into a caller's buffer (no allocation).</summary>
        public void GetStyle(float[] styleOut)
        {
            Native.Check(Native.gazehead_generator_get_style(handle, styleOut, Len(styleOut)));
        }

        /// <summary>A copy of the styles [N*2].</summary>
        public float[] GetStyle()
        {
            var style = new float[2 * numAgents];
            GetStyle(style);
            return style;
        }

        /// <summary>Head-on-torso half-ranges [3] (pitch, yaw, roll), radians: pitch and roll in
        /// (0, pi/2], yaw in (0, pi). The next frame uses them.</summary>
        public void SetNeckLimits(float[] limits)
        {
            if (limits != null && limits.Length != 3)
                throw new GazeHeadArgumentException("limits: expected 3 floats (pitch, yaw, roll), got " + limits.Length);
            Native.Check(Native.gazehead_generator_set_neck_limits(handle, limits));
        }

        /// <summary>The neck half-ranges [3] (pitch, yaw, roll), radians; default the model's.</summary>
        public float[] GetNeckLimits()
        {
            var limits = new float[3];
            Native.Check(Native.gazehead_generator_get_neck_limits(handle, limits));
            return limits;
        }

        /// <summary>Bytes of a saved state of this generator.</summary>
        public int StateSize
        {
            get
            {
                UIntPtr size;
                Native.Check(Native.gazehead_generator_state_size(handle, out size));
                return checked((int)size.ToUInt64());
            }
        }

        /// <summary>An opaque blob holding everything needed to continue exactly from here.</summary>
        public byte[] SaveState()
        {
            var blob = new byte[StateSize];
            SaveState(blob);
            return blob;
        }

        /// <summary>Into a caller's buffer of at least StateSize bytes (no allocation).</summary>
        public void SaveState(byte[] buffer)
        {
            if (buffer == null) throw new ArgumentNullException("buffer");
            Native.Check(Native.gazehead_generator_save_state(handle, buffer, (UIntPtr)buffer.Length));
        }

        /// <summary>Restores a blob from SaveState (same model, same agent count); validated
        /// completely before anything changes.</summary>
        public void LoadState(byte[] blob)
        {
            if (blob == null) throw new ArgumentNullException("blob");
            Native.Check(Native.gazehead_generator_load_state(handle, blob, (UIntPtr)blob.Length));
        }

        public void Dispose() { handle.Dispose(); }

        private static long Len(Array a) { return a == null ? 0 : a.Length; }
    }
}
