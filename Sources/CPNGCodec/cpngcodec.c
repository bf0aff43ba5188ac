// See include/cpngcodec.h. Every setjmp is in this file; png_longjmp never crosses a Swift frame.
#include "cpngcodec.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int host_is_little_endian(void) {
    const uint16_t probe = 1;
    return *(const uint8_t *)&probe == 1;
}

static void set_message(char *buffer, size_t length, const char *text) {
    if (buffer != NULL && length > 0) snprintf(buffer, length, "%s", text);
}

// MARK: - Decoding

typedef struct {
    const uint8_t *bytes;
    size_t length, offset;
    int truncated, too_large, out_of_memory;
    char *message;
    size_t message_length;
} decode_state;

static void decode_error(png_structp png, png_const_charp text) {
    decode_state *state = (decode_state *)png_get_error_ptr(png);
    // Keep the first, most specific message (e.g. the user-limit warning or "unexpected end of file").
    if (state->message != NULL && state->message_length > 0 && state->message[0] == '\0')
        set_message(state->message, state->message_length, text);
    if (strstr(text, "memory") != NULL) state->out_of_memory = 1;
    png_longjmp(png, 1);
}

static void decode_warning(png_structp png, png_const_charp text) {
    decode_state *state = (decode_state *)png_get_error_ptr(png);
    // png_check_IHDR warns "Image width exceeds user limit in IHDR" before failing with "Invalid IHDR data".
    if (strstr(text, "exceeds user limit") != NULL) {
        state->too_large = 1;
        set_message(state->message, state->message_length, text);
    }
    // A chunk longer than png_set_chunk_malloc_max (for IDAT: than the image can need) is a benign error, that is a
    // warning, in libpng 1.6's reader, which then allocates and zeroes the whole declared length: a 300-byte file
    // declaring a 1.5 GB tEXt chunk cost 1.5 GB before the read failed. Here it ends the decode as corrupt.
    if (strstr(text, "chunk data is too large") != NULL) png_error(png, text);
}

static void decode_read(png_structp png, png_bytep out, size_t count) {
    decode_state *state = (decode_state *)png_get_io_ptr(png);
    if (count > state->length - state->offset) {
        state->truncated = 1;
        png_error(png, "unexpected end of file");
    }
    memcpy(out, state->bytes + state->offset, count);
    state->offset += count;
}

int cpng_decode(const uint8_t *bytes, size_t length, cpng_limits limits, cpng_raster *out,
                char *message, size_t message_length) {
    memset(out, 0, sizeof *out);
    if (message != NULL && message_length > 0) message[0] = '\0';
    if (length < 8 || png_sig_cmp((png_const_bytep)bytes, 0, 8) != 0) {
        // A file cut inside the 8-byte signature is a truncated PNG, anything else is not a PNG.
        if (length > 0 && length < 8 && png_sig_cmp((png_const_bytep)bytes, 0, length) == 0) {
            set_message(message, message_length, "file ends inside the PNG signature");
            return CPNG_TRUNCATED;
        }
        set_message(message, message_length, "no PNG signature");
        return CPNG_NOT_PNG;
    }
    decode_state state = {bytes, length, 0, 0, 0, 0, message, message_length};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &state, decode_error, decode_warning);
    if (png == NULL) { set_message(message, message_length, "cannot create libpng read state"); return CPNG_NO_MEMORY; }
    png_infop info = png_create_info_struct(png);
    if (info == NULL) {
        png_destroy_read_struct(&png, NULL, NULL);
        set_message(message, message_length, "cannot create libpng info state");
        return CPNG_NO_MEMORY;
    }
    // Locals modified after setjmp and read after the longjmp must be volatile.
    png_bytep volatile data = NULL;
    png_bytepp volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        free(rows);
        free(data);
        png_destroy_read_struct(&png, &info, NULL);
        if (state.truncated) return CPNG_TRUNCATED;
        if (state.too_large) return CPNG_TOO_LARGE;
        if (state.out_of_memory) return CPNG_NO_MEMORY;
        return CPNG_CORRUPT;
    }
    png_set_read_fn(png, &state, decode_read);
    // Refuse absurd headers inside png_read_info, before anything the size of the image is allocated.
    png_set_user_limits(png, limits.max_width, limits.max_height);
    png_set_chunk_malloc_max(png, 8u << 20);  // ancillary chunks (iCCP, zTXt...) of at most 8 MiB
    png_read_info(png, info);

    png_uint_32 width = 0, height = 0;
    int bit_depth = 0, color_type = 0, interlace = 0;
    png_get_IHDR(png, info, &width, &height, &bit_depth, &color_type, &interlace, NULL, NULL);
    if ((uint64_t)width * (uint64_t)height > limits.max_pixels) {
        char text[160];
        snprintf(text, sizeof text, "%ux%u pixels exceed the limit of %llu pixels",
                 (unsigned)width, (unsigned)height, (unsigned long long)limits.max_pixels);
        set_message(message, message_length, text);
        png_destroy_read_struct(&png, &info, NULL);
        return CPNG_TOO_LARGE;
    }
    // Exact samples: expand palettes (with their tRNS) to RGB(A) and 1/2/4-bit gray to 8 bits; never
    // png_set_gamma, png_set_alpha_mode or png_set_rgb_to_gray, so stored values come back unchanged.
    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (bit_depth == 16 && host_is_little_endian()) png_set_swap(png);  // PNG stores big-endian
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    const size_t channels = png_get_channels(png, info);
    const int out_depth = png_get_bit_depth(png, info);
    const size_t row_bytes = png_get_rowbytes(png, info);
    if ((out_depth != 8 && out_depth != 16) || row_bytes != (size_t)width * channels * (size_t)(out_depth / 8)) {
        png_error(png, "unexpected row layout after expansion");
    }
    if (height != 0 && row_bytes > SIZE_MAX / height) png_error(png, "image too large for memory");
    data = (png_bytep)malloc(row_bytes * height);
    rows = (png_bytepp)malloc(sizeof(png_bytep) * height);
    if (data == NULL || rows == NULL) { state.out_of_memory = 1; png_error(png, "out of memory for the image"); }
    for (png_uint_32 y = 0; y < height; y++) rows[y] = data + (size_t)y * row_bytes;
    png_read_image(png, rows);
    png_read_end(png, NULL);  // checks the remaining chunks' CRCs and that IEND is present

    out->width = width;
    out->height = height;
    out->channels = (uint32_t)channels;
    out->bit_depth = (uint32_t)out_depth;
    out->file_bit_depth = (uint32_t)bit_depth;
    out->file_color_type = (uint32_t)color_type;
    out->interlaced = interlace != PNG_INTERLACE_NONE;
    out->data = data;
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    return CPNG_OK;
}

void cpng_raster_free(cpng_raster *raster) {
    if (raster == NULL) return;
    free(raster->data);
    raster->data = NULL;
}

// MARK: - Encoding

typedef struct {
    cpng_buffer *buffer;
    int out_of_memory;
    char *message;
    size_t message_length;
} encode_state;

static void encode_error(png_structp png, png_const_charp text) {
    encode_state *state = (encode_state *)png_get_error_ptr(png);
    if (state->message != NULL && state->message_length > 0 && state->message[0] == '\0')
        set_message(state->message, state->message_length, text);
    png_longjmp(png, 1);
}

static void encode_warning(png_structp png, png_const_charp text) { (void)png; (void)text; }

static void encode_write(png_structp png, png_bytep bytes, size_t count) {
    encode_state *state = (encode_state *)png_get_io_ptr(png);
    cpng_buffer *buffer = state->buffer;
    if (count > buffer->capacity - buffer->length) {
        size_t capacity = buffer->capacity < 4096 ? 4096 : buffer->capacity;
        while (capacity - buffer->length < count) {
            if (capacity > SIZE_MAX / 2) { state->out_of_memory = 1; png_error(png, "out of memory for the encoded PNG"); }
            capacity *= 2;
        }
        uint8_t *grown = (uint8_t *)realloc(buffer->bytes, capacity);
        if (grown == NULL) { state->out_of_memory = 1; png_error(png, "out of memory for the encoded PNG"); }
        buffer->bytes = grown;
        buffer->capacity = capacity;
    }
    memcpy(buffer->bytes + buffer->length, bytes, count);
    buffer->length += count;
}

static void encode_flush(png_structp png) { (void)png; }

int cpng_encode(const void *samples, uint32_t width, uint32_t height, uint32_t channels, uint32_t bit_depth,
                int compression_level, int interlace, cpng_buffer *out, char *message, size_t message_length) {
    memset(out, 0, sizeof *out);
    if (message != NULL && message_length > 0) message[0] = '\0';
    static const int color_types[5] = {-1, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                                       PNG_COLOR_TYPE_RGB_ALPHA};
    if (channels < 1 || channels > 4 || (bit_depth != 8 && bit_depth != 16) || width == 0 || height == 0 ||
        width > PNG_UINT_31_MAX || height > PNG_UINT_31_MAX) {
        set_message(message, message_length, "PNG encoding needs 1-4 channels, 8 or 16 bits and a non-empty image");
        return CPNG_UNSUPPORTED;
    }
    const size_t row_bytes = (size_t)width * channels * (bit_depth / 8);
    encode_state state = {out, 0, message, message_length};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &state, encode_error, encode_warning);
    if (png == NULL) { set_message(message, message_length, "cannot create libpng write state"); return CPNG_NO_MEMORY; }
    png_infop info = png_create_info_struct(png);
    if (info == NULL) {
        png_destroy_write_struct(&png, NULL);
        set_message(message, message_length, "cannot create libpng info state");
        return CPNG_NO_MEMORY;
    }
    png_bytepp volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        free(rows);
        png_destroy_write_struct(&png, &info);
        cpng_buffer_free(out);
        return state.out_of_memory ? CPNG_NO_MEMORY : CPNG_CORRUPT;
    }
    png_set_write_fn(png, &state, encode_write, encode_flush);
    if (compression_level >= 0 && compression_level <= 9) png_set_compression_level(png, compression_level);
    png_set_IHDR(png, info, width, height, (int)bit_depth, color_types[channels],
                 interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    if (bit_depth == 16 && host_is_little_endian()) png_set_swap(png);
    rows = (png_bytepp)malloc(sizeof(png_bytep) * height);
    if (rows == NULL) { state.out_of_memory = 1; png_error(png, "out of memory for row pointers"); }
    // libpng copies each row before transforming it, so the caller's samples are never written.
    for (uint32_t y = 0; y < height; y++) rows[y] = (png_bytep)samples + (size_t)y * row_bytes;
    png_write_image(png, rows);
    png_write_end(png, NULL);
    free(rows);
    png_destroy_write_struct(&png, &info);
    return CPNG_OK;
}

void cpng_buffer_free(cpng_buffer *buffer) {
    if (buffer == NULL) return;
    free(buffer->bytes);
    buffer->bytes = NULL;
    buffer->length = 0;
    buffer->capacity = 0;
}
