// See include/cvideocodec.h.
#include "cvideocodec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/log.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>

#include <dlfcn.h>
#include <pthread.h>

// FFmpeg's libraries are opened on first use (dlopen), not linked: a process that never touches a video does not
// load them and the ~130 libraries they pull in (codecs, X11, TLS…), which took about 0.1 s of every raftflow start.
// Each function this file calls is reached through a pointer of the header's own type, resolved from the library
// whose major version the headers were built against.
#define CVID_STRINGIFY2(x) #x
#define CVID_STRINGIFY(x) CVID_STRINGIFY2(x)
#define CVID_FFMPEG_FUNCTIONS(X) \
    X(avformat, av_find_best_stream) \
    X(avformat, av_interleaved_write_frame) \
    X(avformat, av_read_frame) \
    X(avformat, av_write_trailer) \
    X(avformat, avformat_alloc_output_context2) \
    X(avformat, avformat_close_input) \
    X(avformat, avformat_find_stream_info) \
    X(avformat, avformat_free_context) \
    X(avformat, avformat_new_stream) \
    X(avformat, avformat_open_input) \
    X(avformat, avformat_write_header) \
    X(avformat, avio_closep) \
    X(avformat, avio_open) \
    X(avcodec, av_packet_alloc) \
    X(avcodec, av_packet_free) \
    X(avcodec, av_packet_rescale_ts) \
    X(avcodec, av_packet_unref) \
    X(avcodec, avcodec_alloc_context3) \
    X(avcodec, avcodec_find_encoder) \
    X(avcodec, avcodec_find_encoder_by_name) \
    X(avcodec, avcodec_free_context) \
    X(avcodec, avcodec_get_name) \
    X(avcodec, avcodec_open2) \
    X(avcodec, avcodec_parameters_from_context) \
    X(avcodec, avcodec_parameters_to_context) \
    X(avcodec, avcodec_receive_frame) \
    X(avcodec, avcodec_receive_packet) \
    X(avcodec, avcodec_send_frame) \
    X(avcodec, avcodec_send_packet) \
    X(avutil, av_frame_alloc) \
    X(avutil, av_frame_free) \
    X(avutil, av_frame_get_buffer) \
    X(avutil, av_frame_make_writable) \
    X(avutil, av_frame_unref) \
    X(avutil, av_log_set_level) \
    X(avutil, av_opt_set) \
    X(avutil, av_strerror) \
    X(swscale, sws_freeContext) \
    X(swscale, sws_getCachedContext) \
    X(swscale, sws_getCoefficients) \
    X(swscale, sws_getColorspaceDetails) \
    X(swscale, sws_getContext) \
    X(swscale, sws_scale) \
    X(swscale, sws_setColorspaceDetails)

#define CVID_DECLARE(lib, name) static __typeof__(name) *cvid_##name;
CVID_FFMPEG_FUNCTIONS(CVID_DECLARE)

static const char *const cvid_library_names[4] = {
    "libavutil.so." CVID_STRINGIFY(LIBAVUTIL_VERSION_MAJOR),
    "libswscale.so." CVID_STRINGIFY(LIBSWSCALE_VERSION_MAJOR),
    "libavcodec.so." CVID_STRINGIFY(LIBAVCODEC_VERSION_MAJOR),
    "libavformat.so." CVID_STRINGIFY(LIBAVFORMAT_VERSION_MAJOR),
};
static void *cvid_libraries[4];
static char cvid_load_error[512];
static pthread_once_t cvid_load_once = PTHREAD_ONCE_INIT;

static void *cvid_library(const char *lib) {
    if (strcmp(lib, "avutil") == 0) return cvid_libraries[0];
    if (strcmp(lib, "swscale") == 0) return cvid_libraries[1];
    if (strcmp(lib, "avcodec") == 0) return cvid_libraries[2];
    return cvid_libraries[3];
}

static void cvid_load(void) {
    for (int i = 0; i < 4; i++) {
        cvid_libraries[i] = dlopen(cvid_library_names[i], RTLD_NOW | RTLD_LOCAL);
        if (cvid_libraries[i] == NULL) {
            const char *reason = dlerror();
            snprintf(cvid_load_error, sizeof cvid_load_error, "FFmpeg's %s cannot be loaded (%s); install FFmpeg's "
                     "libraries (Scripts/bootstrap)", cvid_library_names[i], reason ? reason : "not found");
            return;
        }
    }
#define CVID_RESOLVE(lib, name) \
    if ((cvid_##name = (__typeof__(name) *)dlsym(cvid_library(#lib), #name)) == NULL) { \
        snprintf(cvid_load_error, sizeof cvid_load_error, "FFmpeg's lib%s has no %s", #lib, #name); \
        return; \
    }
    CVID_FFMPEG_FUNCTIONS(CVID_RESOLVE)
}

/// 0 once every FFmpeg function is resolved; else CVID_UNSUPPORTED with the reason in `message`.
static int cvid_ffmpeg(char *message, size_t message_length) {
    pthread_once(&cvid_load_once, cvid_load);
    if (cvid_load_error[0] == '\0') return 0;
    if (message != NULL && message_length > 0) snprintf(message, message_length, "%s", cvid_load_error);
    return CVID_UNSUPPORTED;
}

#define av_find_best_stream cvid_av_find_best_stream
#define av_interleaved_write_frame cvid_av_interleaved_write_frame
#define av_read_frame cvid_av_read_frame
#define av_write_trailer cvid_av_write_trailer
#define avformat_alloc_output_context2 cvid_avformat_alloc_output_context2
#define avformat_close_input cvid_avformat_close_input
#define avformat_find_stream_info cvid_avformat_find_stream_info
#define avformat_free_context cvid_avformat_free_context
#define avformat_new_stream cvid_avformat_new_stream
#define avformat_open_input cvid_avformat_open_input
#define avformat_write_header cvid_avformat_write_header
#define avio_closep cvid_avio_closep
#define avio_open cvid_avio_open
#define av_packet_alloc cvid_av_packet_alloc
#define av_packet_free cvid_av_packet_free
#define av_packet_rescale_ts cvid_av_packet_rescale_ts
#define av_packet_unref cvid_av_packet_unref
#define avcodec_alloc_context3 cvid_avcodec_alloc_context3
#define avcodec_find_encoder cvid_avcodec_find_encoder
#define avcodec_find_encoder_by_name cvid_avcodec_find_encoder_by_name
#define avcodec_free_context cvid_avcodec_free_context
#define avcodec_get_name cvid_avcodec_get_name
#define avcodec_open2 cvid_avcodec_open2
#define avcodec_parameters_from_context cvid_avcodec_parameters_from_context
#define avcodec_parameters_to_context cvid_avcodec_parameters_to_context
#define avcodec_receive_frame cvid_avcodec_receive_frame
#define avcodec_receive_packet cvid_avcodec_receive_packet
#define avcodec_send_frame cvid_avcodec_send_frame
#define avcodec_send_packet cvid_avcodec_send_packet
#define av_frame_alloc cvid_av_frame_alloc
#define av_frame_free cvid_av_frame_free
#define av_frame_get_buffer cvid_av_frame_get_buffer
#define av_frame_make_writable cvid_av_frame_make_writable
#define av_frame_unref cvid_av_frame_unref
#define av_log_set_level cvid_av_log_set_level
#define av_opt_set cvid_av_opt_set
#define av_strerror cvid_av_strerror
#define sws_freeContext cvid_sws_freeContext
#define sws_getCachedContext cvid_sws_getCachedContext
#define sws_getCoefficients cvid_sws_getCoefficients
#define sws_getColorspaceDetails cvid_sws_getColorspaceDetails
#define sws_getContext cvid_sws_getContext
#define sws_scale cvid_sws_scale
#define sws_setColorspaceDetails cvid_sws_setColorspaceDetails

static void set_message(char *buffer, size_t length, const char *text) {
    if (buffer != NULL && length > 0) snprintf(buffer, length, "%s", text);
}

static void set_av_message(char *buffer, size_t length, const char *what, int error) {
    char reason[AV_ERROR_MAX_STRING_SIZE] = {0};
    av_strerror(error, reason, sizeof reason);
    if (buffer != NULL && length > 0) snprintf(buffer, length, "%s: %s", what, reason);
}

// FFmpeg logs to stderr by default; raftflow reports one line per error itself.
static void quiet(void) { av_log_set_level(AV_LOG_QUIET); }

static int status_of(int error) {
    if (error == AVERROR(ENOMEM)) return CVID_NO_MEMORY;
    if (error == AVERROR(ENOENT) || error == AVERROR(EACCES) || error == AVERROR(EISDIR) || error == AVERROR(EIO))
        return CVID_IO;
    if (error == AVERROR_DECODER_NOT_FOUND || error == AVERROR_ENCODER_NOT_FOUND || error == AVERROR_PATCHWELCOME)
        return CVID_UNSUPPORTED;
    return CVID_CORRUPT;
}

// MARK: - Reading

struct cvid_reader {
    AVFormatContext *format;
    AVCodecContext *decoder;
    AVPacket *packet;
    AVFrame *frame;
    struct SwsContext *scaler;
    int stream;
    int width, height;
    int draining;       // the demuxer is exhausted and the decoder has been sent its flush packet
    int64_t decoded;    // frames returned so far
};

void cvid_reader_close(cvid_reader *reader) {
    if (reader == NULL) return;
    sws_freeContext(reader->scaler);
    av_frame_free(&reader->frame);
    av_packet_free(&reader->packet);
    avcodec_free_context(&reader->decoder);
    avformat_close_input(&reader->format);
    free(reader);
}

// Counts the video stream's packets with a separate demuxer (no decoding).
static int64_t count_packets(const char *path, int stream) {
    AVFormatContext *format = NULL;
    if (avformat_open_input(&format, path, NULL, NULL) < 0) return -1;
    AVPacket *packet = av_packet_alloc();
    int64_t count = 0;
    if (packet == NULL) { avformat_close_input(&format); return -1; }
    while (av_read_frame(format, packet) >= 0) {
        if (packet->stream_index == stream && !(packet->flags & AV_PKT_FLAG_DISCARD)) count++;
        av_packet_unref(packet);
    }
    av_packet_free(&packet);
    avformat_close_input(&format);
    return count;
}

int cvid_reader_open(const char *path, cvid_reader **out, cvid_info *info, char *message, size_t message_length) {
    *out = NULL;
    memset(info, 0, sizeof *info);
    if (message != NULL && message_length > 0) message[0] = '\0';
    int loaded = cvid_ffmpeg(message, message_length);
    if (loaded != 0) return loaded;
    quiet();
    cvid_reader *r = calloc(1, sizeof *r);
    if (r == NULL) { set_message(message, message_length, "out of memory"); return CVID_NO_MEMORY; }
    int error = avformat_open_input(&r->format, path, NULL, NULL);
    if (error < 0) {
        int status = status_of(error);
        if (status == CVID_CORRUPT) status = CVID_NOT_VIDEO;   // "Invalid data found when processing input"
        set_av_message(message, message_length, "cannot open as a video", error);
        cvid_reader_close(r);
        return status;
    }
    if ((error = avformat_find_stream_info(r->format, NULL)) < 0) {
        set_av_message(message, message_length, "cannot read the stream parameters", error);
        cvid_reader_close(r);
        return status_of(error);
    }
    const AVCodec *codec = NULL;
    r->stream = av_find_best_stream(r->format, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (r->stream == AVERROR_STREAM_NOT_FOUND) {
        set_message(message, message_length, "the file has no video stream");
        cvid_reader_close(r);
        return CVID_NOT_VIDEO;
    }
    if (r->stream < 0 || codec == NULL) {
        AVStream *s = r->stream >= 0 ? r->format->streams[r->stream] : NULL;
        char text[160];
        snprintf(text, sizeof text, "no decoder for the video codec %s",
                 s != NULL ? avcodec_get_name(s->codecpar->codec_id) : "(unknown)");
        set_message(message, message_length, text);
        cvid_reader_close(r);
        return CVID_UNSUPPORTED;
    }
    AVStream *stream = r->format->streams[r->stream];
    r->decoder = avcodec_alloc_context3(codec);
    r->packet = av_packet_alloc();
    r->frame = av_frame_alloc();
    if (r->decoder == NULL || r->packet == NULL || r->frame == NULL) {
        set_message(message, message_length, "out of memory");
        cvid_reader_close(r);
        return CVID_NO_MEMORY;
    }
    if ((error = avcodec_parameters_to_context(r->decoder, stream->codecpar)) < 0 ||
        (error = avcodec_open2(r->decoder, codec, NULL)) < 0) {
        set_av_message(message, message_length, "cannot open the decoder", error);
        cvid_reader_close(r);
        return CVID_UNSUPPORTED;
    }
    r->width = r->decoder->width;
    r->height = r->decoder->height;
    if (r->width <= 0 || r->height <= 0) {
        set_message(message, message_length, "the video stream has no frame size");
        cvid_reader_close(r);
        return CVID_CORRUPT;
    }
    info->width = (uint32_t)r->width;
    info->height = (uint32_t)r->height;
    AVRational rate = stream->avg_frame_rate.den != 0 && stream->avg_frame_rate.num != 0 ? stream->avg_frame_rate
                                                                                          : stream->r_frame_rate;
    info->frame_rate_num = rate.num;
    info->frame_rate_den = rate.den;
    info->frame_count = count_packets(path, r->stream);
    snprintf(info->codec, sizeof info->codec, "%s", codec->name);
    *out = r;
    return CVID_OK;
}

// The next decoded frame into r->frame: CVID_OK, CVID_END or an error.
static int receive(cvid_reader *r, char *message, size_t message_length) {
    for (;;) {
        int error = avcodec_receive_frame(r->decoder, r->frame);
        if (error == 0) return CVID_OK;
        if (error == AVERROR_EOF) return CVID_END;
        if (error != AVERROR(EAGAIN)) {
            set_av_message(message, message_length, "cannot decode a frame", error);
            return status_of(error);
        }
        if (r->draining) return CVID_END;
        // The decoder wants input: the next packet of our stream, or the flush packet at the end.
        for (;;) {
            error = av_read_frame(r->format, r->packet);
            if (error == AVERROR_EOF) {
                r->draining = 1;
                avcodec_send_packet(r->decoder, NULL);
                break;
            }
            if (error < 0) {
                set_av_message(message, message_length, "cannot read the file", error);
                return status_of(error);
            }
            if (r->packet->stream_index != r->stream) { av_packet_unref(r->packet); continue; }
            error = avcodec_send_packet(r->decoder, r->packet);
            av_packet_unref(r->packet);
            if (error < 0 && error != AVERROR(EAGAIN)) {
                set_av_message(message, message_length, "damaged video data", error);
                return status_of(error);
            }
            break;
        }
    }
}

int cvid_reader_next(cvid_reader *r, uint8_t *rgb, char *message, size_t message_length) {
    if (message != NULL && message_length > 0) message[0] = '\0';
    int status = receive(r, message, message_length);
    if (status != CVID_OK) return status;
    AVFrame *f = r->frame;
    if (f->decode_error_flags != 0 || (f->flags & AV_FRAME_FLAG_CORRUPT)) {
        char text[96];
        snprintf(text, sizeof text, "the decoder reported damaged data");
        set_message(message, message_length, text);
        av_frame_unref(f);
        return CVID_CORRUPT;
    }
    if (f->width != r->width || f->height != r->height) {
        char text[160];
        snprintf(text, sizeof text, "frame %lld is %dx%d but the first frames are %dx%d", (long long)r->decoded,
                 f->width, f->height, r->width, r->height);
        set_message(message, message_length, text);
        av_frame_unref(f);
        return CVID_UNSUPPORTED;
    }
    if (rgb != NULL) {
        r->scaler = sws_getCachedContext(r->scaler, f->width, f->height, (enum AVPixelFormat)f->format, f->width,
                                         f->height, AV_PIX_FMT_RGB24, SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT,
                                         NULL, NULL, NULL);
        if (r->scaler == NULL) {
            set_message(message, message_length, "cannot convert the frame's pixel format to RGB");
            av_frame_unref(f);
            return CVID_UNSUPPORTED;
        }
        // YUV → RGB with the stream's matrix and range (BT.601 when untagged).
        int colorspace = f->colorspace == AVCOL_SPC_UNSPECIFIED ? SWS_CS_DEFAULT : (int)f->colorspace;
        int full_range = f->color_range == AVCOL_RANGE_JPEG;
        const int *coefficients = sws_getCoefficients(colorspace);
        int *inv_table, *table, src_range, dst_range, brightness, contrast, saturation;
        if (sws_getColorspaceDetails(r->scaler, &inv_table, &src_range, &table, &dst_range, &brightness, &contrast,
                                     &saturation) >= 0) {
            sws_setColorspaceDetails(r->scaler, coefficients, full_range, table, 1, brightness, contrast, saturation);
        }
        uint8_t *planes[4] = {rgb, NULL, NULL, NULL};
        int strides[4] = {3 * f->width, 0, 0, 0};
        sws_scale(r->scaler, (const uint8_t *const *)f->data, f->linesize, 0, f->height, planes, strides);
    }
    av_frame_unref(f);
    r->decoded++;
    return CVID_OK;
}

// MARK: - Writing

struct cvid_writer {
    AVFormatContext *format;
    AVCodecContext *encoder;
    AVStream *stream;
    AVFrame *frame;
    AVPacket *packet;
    struct SwsContext *scaler;
    uint8_t *padded;     // the RGB frame with odd sides padded to even (YUV 4:2:0 only), else NULL
    int width, height;   // the caller's frame size
    int64_t next_pts;
    int header_written;
};

static void writer_free(cvid_writer *w) {
    if (w == NULL) return;
    sws_freeContext(w->scaler);
    free(w->padded);
    av_frame_free(&w->frame);
    av_packet_free(&w->packet);
    avcodec_free_context(&w->encoder);
    if (w->format != NULL) {
        if (!(w->format->oformat->flags & AVFMT_NOFILE)) avio_closep(&w->format->pb);
        avformat_free_context(w->format);
    }
    free(w);
}

void cvid_writer_abort(cvid_writer *writer) { writer_free(writer); }

static int supports(const AVCodec *codec, enum AVPixelFormat format) {
    if (codec->pix_fmts == NULL) return format == AV_PIX_FMT_YUV420P;
    for (const enum AVPixelFormat *p = codec->pix_fmts; *p != AV_PIX_FMT_NONE; p++)
        if (*p == format) return 1;
    return 0;
}

int cvid_writer_open(const char *path, const char *format_name, uint32_t width, uint32_t height, int32_t fps_num,
                     int32_t fps_den, const char *codec_name, cvid_writer **out, char codec_used[32], char *message,
                     size_t message_length) {
    *out = NULL;
    codec_used[0] = '\0';
    if (message != NULL && message_length > 0) message[0] = '\0';
    int loaded = cvid_ffmpeg(message, message_length);
    if (loaded != 0) return loaded;
    quiet();
    if (width == 0 || height == 0 || width > 16384 || height > 16384 || fps_num <= 0 || fps_den <= 0) {
        set_message(message, message_length, "frame size or frame rate out of range");
        return CVID_UNSUPPORTED;
    }
    cvid_writer *w = calloc(1, sizeof *w);
    if (w == NULL) { set_message(message, message_length, "out of memory"); return CVID_NO_MEMORY; }
    w->width = (int)width;
    w->height = (int)height;
    int error = avformat_alloc_output_context2(&w->format, NULL, NULL, format_name);
    if (error < 0 || w->format == NULL) {
        set_message(message, message_length, "no video container for this file name (use .mp4, .mkv, .mov or .avi)");
        writer_free(w);
        return CVID_UNSUPPORTED;
    }
    const AVCodec *codec = codec_name != NULL ? avcodec_find_encoder_by_name(codec_name)
                                              : avcodec_find_encoder_by_name("libx264");
    if (codec == NULL && codec_name == NULL) codec = avcodec_find_encoder(AV_CODEC_ID_MPEG4);
    if (codec == NULL) {
        char text[96];
        snprintf(text, sizeof text, "no %s encoder in this FFmpeg", codec_name != NULL ? codec_name : "mpeg4");
        set_message(message, message_length, text);
        writer_free(w);
        return CVID_UNSUPPORTED;
    }
    snprintf(codec_used, 32, "%s", codec->name);
    // An 8-bit RGB layout when the encoder takes one (ffv1: 0RGB32; png, qtrle: RGB24), else YUV 4:2:0.
    static const enum AVPixelFormat rgb_formats[] = {AV_PIX_FMT_GBRP, AV_PIX_FMT_RGB24, AV_PIX_FMT_BGR24,
                                                     AV_PIX_FMT_0RGB32, AV_PIX_FMT_0BGR32, AV_PIX_FMT_RGB32};
    enum AVPixelFormat pixel_format = AV_PIX_FMT_YUV420P;
    int rgb = 0;
    for (size_t k = 0; k < sizeof rgb_formats / sizeof rgb_formats[0] && !rgb; k++) {
        if (codec->pix_fmts != NULL && supports(codec, rgb_formats[k])) { pixel_format = rgb_formats[k]; rgb = 1; }
    }
    int encoded_width = rgb ? w->width : (w->width + 1) & ~1, encoded_height = rgb ? w->height : (w->height + 1) & ~1;

    w->stream = avformat_new_stream(w->format, NULL);
    w->encoder = avcodec_alloc_context3(codec);
    w->frame = av_frame_alloc();
    w->packet = av_packet_alloc();
    if (w->stream == NULL || w->encoder == NULL || w->frame == NULL || w->packet == NULL) {
        set_message(message, message_length, "out of memory");
        writer_free(w);
        return CVID_NO_MEMORY;
    }
    AVCodecContext *c = w->encoder;
    c->width = encoded_width;
    c->height = encoded_height;
    c->pix_fmt = pixel_format;
    c->time_base = (AVRational){fps_den, fps_num};
    c->framerate = (AVRational){fps_num, fps_den};
    c->gop_size = 12;
    if (!rgb) {
        c->color_range = AVCOL_RANGE_MPEG;
        c->colorspace = AVCOL_SPC_BT470BG;   // BT.601, what the RGB → YUV conversion below uses
        c->color_primaries = AVCOL_PRI_BT709;
        c->color_trc = AVCOL_TRC_IEC61966_2_1;
    }
    if (codec->id == AV_CODEC_ID_MPEG4) {
        c->flags |= AV_CODEC_FLAG_QSCALE;
        c->global_quality = FF_QP2LAMBDA * 3;
    }
    if (strcmp(codec->name, "libx264") == 0) {
        av_opt_set(c->priv_data, "preset", "fast", 0);
        av_opt_set(c->priv_data, "crf", "18", 0);
    }
    if (w->format->oformat->flags & AVFMT_GLOBALHEADER) c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    if ((error = avcodec_open2(c, codec, NULL)) < 0) {
        set_av_message(message, message_length, "cannot open the encoder", error);
        writer_free(w);
        return CVID_UNSUPPORTED;
    }
    if ((error = avcodec_parameters_from_context(w->stream->codecpar, c)) < 0) {
        set_av_message(message, message_length, "cannot set the stream parameters", error);
        writer_free(w);
        return CVID_UNSUPPORTED;
    }
    w->stream->time_base = c->time_base;
    w->stream->avg_frame_rate = c->framerate;
    w->frame->format = pixel_format;
    w->frame->width = encoded_width;
    w->frame->height = encoded_height;
    if ((error = av_frame_get_buffer(w->frame, 0)) < 0) {
        set_av_message(message, message_length, "cannot allocate a frame", error);
        writer_free(w);
        return CVID_NO_MEMORY;
    }
    if (encoded_width != w->width || encoded_height != w->height) {
        w->padded = malloc((size_t)encoded_width * encoded_height * 3);
        if (w->padded == NULL) { set_message(message, message_length, "out of memory"); writer_free(w); return CVID_NO_MEMORY; }
    }
    w->scaler = sws_getContext(encoded_width, encoded_height, AV_PIX_FMT_RGB24, encoded_width, encoded_height,
                               pixel_format, SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INP, NULL, NULL, NULL);
    if (w->scaler == NULL) {
        set_message(message, message_length, "cannot convert RGB to the encoder's pixel format");
        writer_free(w);
        return CVID_UNSUPPORTED;
    }
    if (!(w->format->oformat->flags & AVFMT_NOFILE) && (error = avio_open(&w->format->pb, path, AVIO_FLAG_WRITE)) < 0) {
        set_av_message(message, message_length, "cannot create the file", error);
        writer_free(w);
        return CVID_IO;
    }
    if ((error = avformat_write_header(w->format, NULL)) < 0) {
        set_av_message(message, message_length, "cannot write the container header", error);
        writer_free(w);
        return status_of(error) == CVID_IO ? CVID_IO : CVID_UNSUPPORTED;
    }
    w->header_written = 1;
    *out = w;
    return CVID_OK;
}

// Sends `frame` (NULL flushes) and writes every packet the encoder has ready.
static int encode(cvid_writer *w, AVFrame *frame, char *message, size_t message_length) {
    int error = avcodec_send_frame(w->encoder, frame);
    if (error < 0) { set_av_message(message, message_length, "cannot encode a frame", error); return status_of(error); }
    for (;;) {
        error = avcodec_receive_packet(w->encoder, w->packet);
        if (error == AVERROR(EAGAIN) || error == AVERROR_EOF) return CVID_OK;
        if (error < 0) { set_av_message(message, message_length, "cannot encode a frame", error); return status_of(error); }
        av_packet_rescale_ts(w->packet, w->encoder->time_base, w->stream->time_base);
        w->packet->stream_index = w->stream->index;
        error = av_interleaved_write_frame(w->format, w->packet);
        if (error < 0) { set_av_message(message, message_length, "cannot write to the file", error); return CVID_IO; }
    }
}

int cvid_writer_write(cvid_writer *w, const uint8_t *rgb, char *message, size_t message_length) {
    if (message != NULL && message_length > 0) message[0] = '\0';
    int error = av_frame_make_writable(w->frame);
    if (error < 0) { set_av_message(message, message_length, "cannot allocate a frame", error); return CVID_NO_MEMORY; }
    const uint8_t *source = rgb;
    int stride = 3 * w->width;
    if (w->padded != NULL) {
        // Replicate the last column and row into the even-sized frame.
        int pw = w->frame->width, ph = w->frame->height;
        for (int y = 0; y < ph; y++) {
            const uint8_t *row = rgb + (size_t)(y < w->height ? y : w->height - 1) * 3 * w->width;
            uint8_t *target = w->padded + (size_t)y * 3 * pw;
            memcpy(target, row, (size_t)3 * w->width);
            for (int x = w->width; x < pw; x++) memcpy(target + 3 * x, row + 3 * (w->width - 1), 3);
        }
        source = w->padded;
        stride = 3 * pw;
    }
    const uint8_t *planes[4] = {source, NULL, NULL, NULL};
    int strides[4] = {stride, 0, 0, 0};
    sws_scale(w->scaler, planes, strides, 0, w->frame->height, w->frame->data, w->frame->linesize);
    w->frame->pts = w->next_pts++;
    return encode(w, w->frame, message, message_length);
}

int cvid_writer_finish(cvid_writer *w, char *message, size_t message_length) {
    if (message != NULL && message_length > 0) message[0] = '\0';
    int status = encode(w, NULL, message, message_length);
    if (status == CVID_OK) {
        int error = av_write_trailer(w->format);
        if (error < 0) { set_av_message(message, message_length, "cannot finish the file", error); status = CVID_IO; }
    }
    writer_free(w);
    return status;
}
