import sharp from 'sharp';

/** An image's RGB pixels, row by row. */
export interface RawImage {
  data: Buffer;
  width: number;
  height: number;
}

export const decodeRgb = async (image: Buffer): Promise<RawImage> => {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
};

/** The [r, g, b] of one pixel. */
export const rgbAt = (image: RawImage, x: number, y: number) => [...image.data.subarray((y * image.width + x) * 3, (y * image.width + x) * 3 + 3)];
